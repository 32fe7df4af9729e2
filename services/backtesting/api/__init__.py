"""HTTP routers of the backtesting service."""

from services.backtesting.api import backtests, reports, searches, strategies

routers = [strategies.router, backtests.router, reports.router, searches.router]
