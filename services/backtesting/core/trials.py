"""Evaluating a batch of parameter sets on one set of bars: the function every executor runs, in-process, in
a local worker process or in a Ray task.

An outcome is compact: the metrics as a plain dict, the fill loop's skipped-entry counts and the moments of
the returns between the equity at the period marks (the returns themselves only for the trials in the PBO
sample, core/overfitting_report.py); the trades and the equity curve of a combination never leave the worker.

In the tick models a search's ticks travel with its bars, in the same mapping of arrays (`search_columns`),
so every executor ships them as it ships bars (one shared-memory block on the local pool, one object in
Ray's store) and a trial runs the tick loop on them; each bar's fill tick is found once per search.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.engine import first_signal_bar, result_from_run, simulate_signals
from services.backtesting.core.overfitting_report import TrialReturns, trial_returns
from services.backtesting.core.tick_engine import BarTicks, TickColumns, simulate_on_ticks
from shared.errors import PlatformError
from shared.trading.indicator_cache import IndicatorCache, indicator_cache
from shared.trading.registry import StrategyRegistry, load_strategy_folder

# One combination's outcome: its metrics (as a dict), the fill loop's skipped-entry counts, and its returns
# on the period grid (for the overfitting measures).
Outcome = tuple[dict[str, Any], np.ndarray, TrialReturns]

# The names a search's ticks and each bar's fill tick take beside its bars (no bar column has a colon).
_TICK_TIME, _TICK_BID, _TICK_ASK, _FILL_TICK = "tick:time_msc", "tick:bid", "tick:ask", "tick:fill"
_TICK_NAMES = (_TICK_TIME, _TICK_BID, _TICK_ASK, _FILL_TICK)


def search_columns(cols: dict[str, np.ndarray], ticks: BarTicks | None) -> dict[str, np.ndarray]:
    """What a search's trials run on: its bars, and in a tick model the ticks of their span beside them."""
    if ticks is None:
        return cols
    span, fill = ticks.window(cols["time"])
    return {**cols, _TICK_TIME: span.time_msc, _TICK_BID: span.bid, _TICK_ASK: span.ask, _FILL_TICK: fill}


def _split(
    cols: Mapping[str, np.ndarray],
) -> tuple[dict[str, np.ndarray], tuple[TickColumns, np.ndarray] | None]:
    """`search_columns` undone: the bars (the same arrays, so the indicator cache still knows them), and the
    ticks with each bar's fill tick when the search has them."""
    bars = {name: values for name, values in cols.items() if name not in _TICK_NAMES}
    if _FILL_TICK not in cols:
        return bars, None
    return bars, (TickColumns(cols[_TICK_TIME], cols[_TICK_BID], cols[_TICK_ASK]), cols[_FILL_TICK])


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
    `cache` (which must belong to these `cols`), indicators shared by combinations are computed once.
    `cols` that carry ticks (`search_columns`: a tick model's search) run the tick loop on them."""
    bars, ticks = _split(cols)
    out: list[Outcome | None] = []
    with indicator_cache(cache or IndicatorCache(0)):
        for params, keep in zip(combos, keep_returns, strict=True):
            try:
                strategy = registry.build(strategy_name, params)
            except PlatformError:
                out.append(None)
                continue
            start = first_signal_bar(strategy, len(bars["close"]))
            signals = strategy.signals(bars)
            equity, records, skipped = (
                simulate_signals(bars, signals, config, start)
                if ticks is None
                else simulate_on_ticks(bars, signals, *ticks, config, start)
            )
            result = result_from_run(bars["time"], bars["close"], equity, records, strategy.first_valid_bar)
            out.append((result.metrics.model_dump(), skipped, trial_returns(equity, marks, keep)))
    return out
