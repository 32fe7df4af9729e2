"""HTTP routers of the backtesting service."""
