"""Evaluating a batch of parameter sets on one set of bars: the function every executor runs, in-process, in
a local worker process or in a Ray task.

An outcome is compact: the metrics as a plain dict, the fill loop's skipped-entry counts and the moments of
the returns between the equity at the period marks (the returns themselves only for the trials in the PBO
sample, core/overfitting_report.py); the trades and the equity curve of a combination never leave the worker.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.engine import first_signal_bar, result_from_run, simulate_signals
from services.backtesting.core.overfitting_report import TrialReturns, trial_returns
from shared.errors import PlatformError
from shared.trading.indicator_cache import IndicatorCache, indicator_cache
from shared.trading.registry import StrategyRegistry, load_strategy_folder

# One combination's outcome: its metrics (as a dict), the fill loop's skipped-entry counts, and its returns
# on the period grid (for the overfitting measures).
Outcome = tuple[dict[str, Any], np.ndarray, TrialReturns]


@functools.cache
def strategy_registry(folder: str | None) -> StrategyRegistry:
    """Built-ins plus the strategies in `folder`, loaded once per process (modules run only once)."""
    registry = StrategyRegistry.with_builtins()
    if folder:
        for cls in load_strategy_folder(folder):
            registry.register(cls)
    return registry


def evaluate_chunk(
    cols: Mapping[str, np.ndarray],
    strategy_name: str,
    combos: Sequence[dict[str, Any]],
    config: BacktestConfig,
    registry: StrategyRegistry,
    marks: np.ndarray,
    keep_returns: Sequence[bool],
    cache: IndicatorCache | None = None,
) -> list[Outcome | None]:
    """The outcome of each combination; None where the parameter model refuses it. Returns are measured
    between the equity at the bars `marks` (period_marks) and sent back where `keep_returns` says. With
    `cache` (which must belong to these `cols`), indicators shared by combinations are computed once."""
    out: list[Outcome | None] = []
    with indicator_cache(cache or IndicatorCache(0)):
        for params, keep in zip(combos, keep_returns, strict=True):
            try:
                strategy = registry.build(strategy_name, params)
            except PlatformError:
                out.append(None)
                continue
            start = first_signal_bar(strategy, len(cols["close"]))
            equity, records, skipped = simulate_signals(cols, strategy.signals(cols), config, start)
            result = result_from_run(cols["time"], cols["close"], equity, records, strategy.first_valid_bar)
            out.append((result.metrics.model_dump(), skipped, trial_returns(equity, marks, keep)))
    return out
