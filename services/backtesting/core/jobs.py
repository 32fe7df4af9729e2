"""The job functions the job manager runs in its worker processes (top-level, so spawn can import them).

Each receives the stored job parameters plus a private `_run` block the HTTP layer adds (where the bars
file is, the user strategy folder, where summaries go, how many equity points to keep, how many processes
an optimisation may use). The engine's cancel exception becomes the job manager's, so a cancelled run
ends as `cancelled`, not `failed`.
"""

from __future__ import annotations

import functools
import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.engine import BacktestCancelled, run_backtest
from services.backtesting.core.optimize import ParamRange, run_optimization
from services.backtesting.core.summaries import SummaryStore, summarize
from services.backtesting.core.walk_forward import run_walk_forward
from shared.jobs import JobCancelled, JobContext
from shared.market.bar_spool import discard_bars, read_bars
from shared.trading.registry import StrategyRegistry, load_strategy_folder

T = TypeVar("T")


@functools.cache
def strategy_registry(folder: str | None) -> StrategyRegistry:
    """Built-ins plus the strategies in `folder`, loaded once per process (modules run only once)."""
    registry = StrategyRegistry.with_builtins()
    if folder:
        for cls in load_strategy_folder(folder):
            registry.register(cls)
    return registry


@functools.cache
def _summary_store(path: str) -> SummaryStore:
    return SummaryStore(Path(path))


@contextmanager
def _fan_out(workers: int, folder: str | None) -> Iterator[ProcessPoolExecutor | None]:
    """A process pool for one search (None for one worker). Its processes load the user strategies first,
    so strategy classes pickled by reference resolve there too."""
    if workers <= 1:
        yield None
        return
    pool = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=strategy_registry,
        initargs=(folder,),
    )
    try:
        yield pool
    finally:
        # A cancelled search must not wait for chunks still running in the pool.
        pool.shutdown(wait=False, cancel_futures=True)


def _with_bars(params: dict[str, Any], ctx: JobContext, work: Callable[[dict[str, Any]], T]) -> T:
    """Run `work` on the job's bars, translating the engine's cancel, and always removing the bar file."""
    bars_file = params["_run"]["bars_file"]
    try:
        ctx.check_cancelled()
        return work(read_bars(bars_file))
    except BacktestCancelled:
        raise JobCancelled(ctx.job_id) from None
    finally:
        discard_bars(bars_file)


def _space(params: dict[str, Any]) -> dict[str, ParamRange]:
    return {name: ParamRange.model_validate(spec) for name, spec in params["space"].items()}


def backtest_job(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """One backtest; the result keeps `stored_equity_points` of the equity curve."""
    run = params["_run"]
    registry = strategy_registry(run["strategies_folder"])

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        strategy = registry.build(params["strategy"], params["params"])
        config = BacktestConfig.model_validate(params["config"])
        return run_backtest(bars, strategy, config, progress=ctx.progress, cancel=ctx.cancelled).to_dict(
            run["stored_equity_points"]
        )

    result = _with_bars(params, ctx, work)
    _summary_store(run["summaries_db"]).put(ctx.job_id, summarize(result["metrics"]))
    return result


def optimization_job(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """A grid or random search, fanned out over `workers` processes of its own."""
    run = params["_run"]
    registry = strategy_registry(run["strategies_folder"])

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        with _fan_out(run["workers"], run["strategies_folder"]) as executor:
            result = run_optimization(
                bars,
                params["strategy"],
                _space(params),
                BacktestConfig.model_validate(params["config"]),
                registry=registry,
                metric=params["metric"],
                maximize=params["maximize"],
                method=params["method"],
                samples=params["samples"],
                seed=params["seed"],
                top_n=params["top_n"],
                heatmap=tuple(params["heatmap"]) if params["heatmap"] else None,
                fixed_params=params["params"],
                executor=executor,
                progress=ctx.progress,
                cancel=ctx.cancelled,
            )
        return result.model_dump(mode="json")

    return _with_bars(params, ctx, work)


def walk_forward_job(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Rolling or anchored walk-forward analysis; each in-sample search fans out like an optimisation."""
    run = params["_run"]
    registry = strategy_registry(run["strategies_folder"])

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        with _fan_out(run["workers"], run["strategies_folder"]) as executor:
            result = run_walk_forward(
                bars,
                params["strategy"],
                _space(params),
                BacktestConfig.model_validate(params["config"]),
                registry=registry,
                in_sample_bars=params["in_sample_bars"],
                out_of_sample_bars=params["out_of_sample_bars"],
                anchored=params["anchored"],
                metric=params["metric"],
                maximize=params["maximize"],
                fixed_params=params["params"],
                executor=executor,
                progress=ctx.progress,
                cancel=ctx.cancelled,
            )
        return result.to_dict(run["stored_equity_points"])

    return _with_bars(params, ctx, work)
