"""The backtesting service: Backtest jobs, parameter optimisation, walk-forward analysis, result storage."""
