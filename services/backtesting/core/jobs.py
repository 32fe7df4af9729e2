"""The job functions the job manager runs in its worker processes (top-level, so spawn can import them).

Each takes the service's `RunRuntime` (bound by the launcher with `functools.partial`: the user strategy
folder, where summaries go, how many equity points to keep, which executor a search uses)
and its kind's spec (`core/specs.py`: the checked request and its bars file). The engine's cancel
exception becomes the job manager's, so a cancelled run ends as `cancelled`, not `failed`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from services.backtesting.core.engine import BacktestCancelled, run_backtest
from services.backtesting.core.executors import ExecutorConfig, open_executor
from services.backtesting.core.optimize import run_optimization
from services.backtesting.core.specs import BacktestJobSpec, OptimizeJobSpec, RunSpec, WalkForwardJobSpec
from services.backtesting.core.summaries import SummaryStore, summarize
from services.backtesting.core.trials import strategy_registry
from services.backtesting.core.walk_forward import run_walk_forward
from shared.jobs import JobCancelled, JobContext
from shared.market.bar_spool import discard_bars, read_bars

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunRuntime:
    """What every run's worker needs from the service (paths and limits; the same for every job)."""

    strategies_folder: str | None
    summaries_db: str
    stored_equity_points: int
    search: ExecutorConfig


@functools.cache
def _summary_store(path: str) -> SummaryStore:
    return SummaryStore(Path(path))


def _with_bars(spec: RunSpec, ctx: JobContext, work: Callable[[dict[str, Any]], T]) -> T:
    """Run `work` on the job's bars, translating the engine's cancel, and always removing the bar file."""
    try:
        ctx.check_cancelled()
        return work(read_bars(spec.bars_file))
    except BacktestCancelled:
        raise JobCancelled(ctx.job_id) from None
    finally:
        discard_bars(spec.bars_file)


def backtest_job(runtime: RunRuntime, spec: BacktestJobSpec, ctx: JobContext) -> dict[str, Any]:
    """One backtest; the result keeps `stored_equity_points` of the equity curve."""
    registry = strategy_registry(runtime.strategies_folder)

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        strategy = registry.build(spec.strategy, spec.params)
        return run_backtest(bars, strategy, spec.config, progress=ctx.progress, cancel=ctx.cancelled).to_dict(
            runtime.stored_equity_points
        )

    result = _with_bars(spec, ctx, work)
    _summary_store(runtime.summaries_db).put(ctx.job_id, summarize(result["metrics"]))
    return result


def optimization_job(runtime: RunRuntime, spec: OptimizeJobSpec, ctx: JobContext) -> dict[str, Any]:
    """A grid or random search on the configured executor (local processes of its own, or Ray)."""
    registry = strategy_registry(runtime.strategies_folder)

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        with open_executor(runtime.search, registry) as executor:
            result = run_optimization(
                bars,
                spec.strategy,
                spec.space,
                spec.config,
                registry=registry,
                metric=spec.metric,
                maximize=spec.maximize,
                method=spec.method,
                samples=spec.samples,
                seed=spec.seed,
                top_n=spec.top_n,
                heatmap=spec.heatmap,
                fixed_params=spec.params,
                executor=executor,
                progress=ctx.progress,
                cancel=ctx.cancelled,
            )
        return result.model_dump(mode="json")

    return _with_bars(spec, ctx, work)


def walk_forward_job(runtime: RunRuntime, spec: WalkForwardJobSpec, ctx: JobContext) -> dict[str, Any]:
    """Rolling or anchored walk-forward analysis; each in-sample search fans out like an optimisation."""
    registry = strategy_registry(runtime.strategies_folder)

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        with open_executor(runtime.search, registry) as executor:
            result = run_walk_forward(
                bars,
                spec.strategy,
                spec.space,
                spec.config,
                registry=registry,
                in_sample_bars=spec.in_sample_bars,
                out_of_sample_bars=spec.out_of_sample_bars,
                anchored=spec.anchored,
                metric=spec.metric,
                maximize=spec.maximize,
                fixed_params=spec.params,
                executor=executor,
                progress=ctx.progress,
                cancel=ctx.cancelled,
            )
        return result.to_dict(runtime.stored_equity_points)

    return _with_bars(spec, ctx, work)
