"""Backtesting core: the engine, optimisation and walk-forward analysis (no HTTP)."""

from services.backtesting.core.config import BacktestConfig, CostConfig, FillTiming, SymbolFacts
from services.backtesting.core.engine import BacktestCancelled, BacktestResult, Trades, run_backtest
from services.backtesting.core.metrics import Metrics
from services.backtesting.core.optimize import OptimizationResult, ParamRange, run_optimization
from services.backtesting.core.walk_forward import WalkForwardResult, WalkForwardWindow, run_walk_forward

__all__ = [
    "BacktestCancelled",
    "BacktestConfig",
    "BacktestResult",
    "CostConfig",
    "FillTiming",
    "Metrics",
    "OptimizationResult",
    "ParamRange",
    "SymbolFacts",
    "Trades",
    "WalkForwardResult",
    "WalkForwardWindow",
    "run_backtest",
    "run_optimization",
    "run_walk_forward",
]
