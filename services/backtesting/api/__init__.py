"""HTTP routers of the backtesting service."""

from services.backtesting.api import backtests, portfolios, reports, searches, strategies

routers = [strategies.router, backtests.router, reports.router, searches.router, portfolios.router]
