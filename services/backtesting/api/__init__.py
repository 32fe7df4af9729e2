"""HTTP routers of the backtesting service."""

from services.backtesting.api import backtests, searches, strategies

routers = [strategies.router, backtests.router, searches.router]
