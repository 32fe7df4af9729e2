"""Walk-forward analysis: optimise on an in-sample window, trade the chosen parameters on the following
out-of-sample window, move on by one out-of-sample length; stitch the out-of-sample runs together.

Rolling windows keep a fixed in-sample length; anchored windows all start at bar 0. Each out-of-sample run
gets the strategy's warm-up bars from before its window (so indicators are ready) but trades only inside
it, and starts with the balance the previous window ended with, so the stitched equity compounds.

In a tick model every run (each in-sample search's trials, each out-of-sample run) reads only the ticks of
its own bars, from the first one's open to just before the last one's close, as a single backtest of those
bars would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.engine import (
    BacktestResult,
    CancelFn,
    ProgressFn,
    bar_columns,
    check_cancel,
    result_from_run,
    simulate_signals,
)
from services.backtesting.core.executors import TrialExecutor
from services.backtesting.core.metrics import Metrics
from services.backtesting.core.optimize import Objective, ParamRange
from services.backtesting.core.overfitting_report import OverfittingReport, OverfittingSettings
from services.backtesting.core.run_warnings import RunWarning, run_warnings, skip_warnings, sum_skipped
from services.backtesting.core.search import run_planned
from services.backtesting.core.studies import SearchPlan
from services.backtesting.core.tick_engine import BarTicks, simulate_on_ticks
from shared.errors import InvalidInputError
from shared.trading.registry import StrategyRegistry
from shared.trading.strategy import Bars


class WalkForwardWindow(BaseModel):
    """One step: bar ranges (half-open), the chosen parameters, the out-of-sample metrics, the in-sample
    search's overfitting measures, and warnings (the out-of-sample run's, and the in-sample search's when
    its combinations made no trades or an overfitting measure could not be computed)."""

    model_config = ConfigDict(ser_json_inf_nan="null")

    in_sample: tuple[int, int]
    out_of_sample: tuple[int, int]
    params: dict[str, Any]
    in_sample_score: float | None
    out_of_sample_metrics: Metrics
    in_sample_overfitting: OverfittingReport | None = None
    warnings: list[RunWarning] = []


@dataclass(frozen=True, slots=True)
class WalkForwardResult:
    """Every window, plus the stitched out-of-sample run (its metrics, trades and equity)."""

    windows: list[WalkForwardWindow]
    stitched: BacktestResult

    def to_dict(self, max_points: int | None = None) -> dict[str, Any]:
        """JSON-ready form; the stitched equity thinned to about `max_points` points."""
        return {
            "windows": [w.model_dump(mode="json") for w in self.windows],
            **self.stitched.to_dict(max_points),
        }


def window_bounds(
    n_bars: int, in_sample_bars: int, out_of_sample_bars: int, anchored: bool
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """((is_start, is_end), (oos_start, oos_end)) for each window that fits in `n_bars`."""
    windows = []
    oos_start = in_sample_bars
    while oos_start + out_of_sample_bars <= n_bars:
        is_start = 0 if anchored else oos_start - in_sample_bars
        windows.append(((is_start, oos_start), (oos_start, oos_start + out_of_sample_bars)))
        oos_start += out_of_sample_bars
    return windows


# The in-sample search's warnings a window repeats (its skipped entries are not the window's trades).
_IN_SAMPLE_WARNINGS = frozenset(
    {"no_trades", "pbo_unavailable", "deflated_sharpe_unavailable", "batches_retried"}
)


def _slice(cols: Mapping[str, np.ndarray], start: int, end: int) -> dict[str, np.ndarray]:
    return {name: values[start:end] for name, values in cols.items()}


def run_walk_forward(
    bars: Bars,
    strategy_name: str,
    space: Mapping[str, ParamRange],
    config: BacktestConfig,
    *,
    registry: StrategyRegistry,
    in_sample_bars: int,
    out_of_sample_bars: int,
    anchored: bool = False,
    metric: str = "Sharpe Ratio",
    maximize: bool = True,
    fixed_params: Mapping[str, Any] | None = None,
    plan: SearchPlan | None = None,
    executor: TrialExecutor | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    overfitting: OverfittingSettings | None = None,
    ticks: BarTicks | None = None,
) -> WalkForwardResult:
    """Optimise in-sample, test out-of-sample, window by window; metrics of the stitched out-of-sample run.

    Each in-sample search follows `plan` (its sampler, objectives, constraints and budget; the chosen
    parameters are the best by its first objective); without one, a grid ranked by `metric`."""
    plan = plan or SearchPlan(
        objectives=(Objective(metric=metric, direction="maximize" if maximize else "minimize"),)
    )
    cols = bar_columns(bars)
    n = len(cols["close"])
    bounds = window_bounds(n, in_sample_bars, out_of_sample_bars, anchored)
    if not bounds:
        raise InvalidInputError(
            f"{n} bars hold no in-sample {in_sample_bars} + out-of-sample {out_of_sample_bars} window",
            code="insufficient_data",
            details={"bars": n, "in_sample_bars": in_sample_bars, "out_of_sample_bars": out_of_sample_bars},
        )
    report = progress or (lambda _fraction: None)
    balance = config.initial_balance
    windows: list[WalkForwardWindow] = []
    equity_parts, record_parts, skipped_parts = [], [], []
    for k, ((is_start, is_end), (oos_start, oos_end)) in enumerate(bounds):
        check_cancel(cancel)
        best = run_planned(
            _slice(cols, is_start, is_end),
            strategy_name,
            space,
            config,
            registry=registry,
            plan=plan,
            top_n=1,
            fixed_params=fixed_params,
            executor=executor,
            cancel=cancel,
            overfitting=overfitting,
            ticks=ticks,
        )
        if not best.top:
            raise InvalidInputError(
                "no valid parameter combination in the search space", code="invalid_params"
            )
        chosen = best.top[0]
        strategy = registry.build(strategy_name, chosen.params)
        lead = min(max(strategy.warmup, 1), oos_start)
        window_cols = _slice(cols, oos_start - lead, oos_end)
        window_config = config.model_copy(update={"initial_balance": balance})
        signals = strategy.signals(window_cols)
        if ticks is None:
            equity, records, skipped = simulate_signals(window_cols, signals, window_config, lead)
        else:
            span, fill = ticks.window(window_cols["time"])
            equity, records, skipped = simulate_on_ticks(
                window_cols, signals, span, fill, window_config, lead
            )
        skipped[0] = 0  # the lead is history before the window, not the strategy's warm-up being lost
        in_sample = [
            RunWarning(code=w.code, message=f"in-sample: {w.message}", count=w.count)
            for w in best.warnings
            if w.code in _IN_SAMPLE_WARNINGS
        ]
        window_warnings = in_sample + run_warnings(signals, skipped, window_config, lead, len(records))
        equity, records = equity[lead:], records.copy()
        records[:, :2] += oos_start - lead  # bar indices back to the whole series
        oos = result_from_run(
            cols["time"][oos_start:oos_end],
            cols["close"][oos_start:oos_end],
            equity,
            _rebase(records, oos_start),
            0,
        )
        windows.append(
            WalkForwardWindow(
                in_sample=(is_start, is_end),
                out_of_sample=(oos_start, oos_end),
                params=chosen.params,
                in_sample_score=chosen.score,
                out_of_sample_metrics=oos.metrics,
                in_sample_overfitting=best.overfitting,
                warnings=window_warnings,
            )
        )
        equity_parts.append(equity)
        record_parts.append(records)
        skipped_parts.append(skipped)
        report((k + 1) / len(bounds))
        balance = float(equity[-1])
        if balance <= 0:
            break  # out of money: nothing left to trade in later windows

    first, last = bounds[0][1][0], windows[-1].out_of_sample[1]
    warnings = skip_warnings(sum_skipped(skipped_parts), config, scope="over all out-of-sample windows")
    idle = sum(1 for w in windows if w.out_of_sample_metrics.trades == 0)
    if idle:
        warnings.append(
            RunWarning(
                code="no_trades",
                message=f"{idle} of {len(windows)} out-of-sample windows made no trades",
                count=idle,
            )
        )
    stitched = result_from_run(
        cols["time"][first:last],
        cols["close"][first:last],
        np.concatenate(equity_parts),
        _rebase(np.concatenate(record_parts), first),
        0,
        tuple(warnings),
    )
    return WalkForwardResult(windows=windows, stitched=stitched)


def _rebase(records: np.ndarray, origin: int) -> np.ndarray:
    """Trade records with bar indices counted from `origin` (trades never start in the warm-up lead)."""
    out = records.copy()
    out[:, :2] -= origin
    return out
