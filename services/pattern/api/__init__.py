"""The pattern service's HTTP layer: thin routers over `services.pattern.core`."""

from services.pattern.api import chart_patterns, indicators, patterns

routers = [indicators.router, patterns.router, chart_patterns.router]
