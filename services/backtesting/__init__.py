"""Backtesting service: backtest jobs, parameter optimisation, walk-forward analysis."""
