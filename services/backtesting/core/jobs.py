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
from services.backtesting.core.overfitting_report import OverfittingSettings
from services.backtesting.core.portfolio import Leg, run_portfolio
from services.backtesting.core.portfolio_money import Quotes, leg_money
from services.backtesting.core.search import TrialReport, run_planned
from services.backtesting.core.specs import (
    BacktestJobSpec,
    DataSource,
    OptimizeJobSpec,
    PortfolioJobSpec,
    RunSpec,
    WalkForwardJobSpec,
)
from services.backtesting.core.summaries import SummaryStore, summarize
from services.backtesting.core.tick_engine import BarTicks, TickColumns, run_tick_backtest
from services.backtesting.core.trials import strategy_registry
from services.backtesting.core.walk_forward import run_walk_forward
from shared.event_catalog import OPTIMIZATION_TRIAL
from shared.event_payloads import OptimizationTrial
from shared.jobs import JobCancelled, JobContext
from shared.market.bar_spool import discard_bars, read_bars
from shared.market.timeframes import get_timeframe

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunRuntime:
    """What every run's worker needs from the service (paths and limits; the same for every job)."""

    strategies_folder: str | None
    summaries_db: str
    stored_equity_points: int
    search: ExecutorConfig
    overfitting: OverfittingSettings
    study_storage: str | None = None  # Optuna RDB URL where optimisation studies persist (None: in memory)


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
        if not ctx.stopping():  # a job stopped by a service stop resumes on these bars
            discard_bars(spec.bars_file)
            if spec.ticks_file is not None:
                discard_bars(spec.ticks_file)


def _ticks(spec: RunSpec) -> BarTicks | None:
    """The job's ticks (tick models), with the length of its bars; None in the bars model."""
    if spec.ticks_file is None:
        return None
    assert isinstance(spec.source, DataSource)  # the launcher reads ticks for data sources only
    return BarTicks(TickColumns.of(read_bars(spec.ticks_file)), get_timeframe(spec.source.timeframe).seconds)


def backtest_job(runtime: RunRuntime, spec: BacktestJobSpec, ctx: JobContext) -> dict[str, Any]:
    """One backtest; the result keeps `stored_equity_points` of the equity curve."""
    registry = strategy_registry(runtime.strategies_folder)

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        strategy = registry.build(spec.strategy, spec.params)
        ticks = _ticks(spec)
        if ticks is None:
            result = run_backtest(bars, strategy, spec.config, progress=ctx.progress, cancel=ctx.cancelled)
        else:
            result = run_tick_backtest(
                bars,
                ticks.ticks,
                ticks.bar_seconds,
                strategy,
                spec.config,
                progress=ctx.progress,
                cancel=ctx.cancelled,
            )
        return result.to_dict(runtime.stored_equity_points)

    result = _with_bars(spec, ctx, work)
    _summary_store(runtime.summaries_db).put(ctx.job_id, summarize(result["metrics"]))
    return result


def optimization_job(runtime: RunRuntime, spec: OptimizeJobSpec, ctx: JobContext) -> dict[str, Any]:
    """A search on the configured executor (local processes of its own, or Ray); a model-based one keeps
    its study in `runtime.study_storage` under the job's id, so a resumed job carries on from its finished
    trials."""
    registry = strategy_registry(runtime.strategies_folder)

    def trial(report: TrialReport) -> None:
        ctx.publish(OPTIMIZATION_TRIAL, OptimizationTrial(job_id=ctx.job_id, **report.model_dump()))

    def work(bars: dict[str, Any]) -> dict[str, Any]:
        with open_executor(runtime.search, registry) as executor:
            result = run_planned(
                bars,
                spec.strategy,
                spec.space,
                spec.config,
                registry=registry,
                plan=spec.plan(),
                top_n=spec.top_n,
                heatmap=spec.heatmap,
                fixed_params=spec.params,
                executor=executor,
                storage=runtime.study_storage,
                study_name=ctx.job_id,
                progress=ctx.progress,
                cancel=ctx.cancelled,
                overfitting=runtime.overfitting,
                on_trial=trial,
                ticks=_ticks(spec),
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
                plan=spec.plan(),
                executor=executor,
                progress=ctx.progress,
                cancel=ctx.cancelled,
                overfitting=runtime.overfitting,
                ticks=_ticks(spec),
            )
        return result.to_dict(runtime.stored_equity_points)

    return _with_bars(spec, ctx, work)


def portfolio_job(runtime: RunRuntime, spec: PortfolioJobSpec, ctx: JobContext) -> dict[str, Any]:
    """Several legs on one account; every curve keeps `stored_equity_points`; headline metrics are the
    combined account's."""
    registry = strategy_registry(runtime.strategies_folder)
    try:
        ctx.check_cancelled()
        bars = [read_bars(leg.bars_file) for leg in spec.legs]
        quotes: dict[str, Quotes] = {}
        for leg_spec, leg_bars in zip(spec.legs, bars, strict=True):
            if leg_spec.currencies is not None and leg_spec.source.symbol:
                quotes.setdefault(
                    leg_spec.source.symbol, Quotes(leg_spec.currencies, leg_bars["time"], leg_bars["close"])
                )
        for quote in spec.quotes:
            extra = read_bars(quote.bars_file)
            quotes[quote.symbol] = Quotes(quote.currencies, extra["time"], extra["close"])
        currency = spec.config.currency
        legs = [
            Leg(
                label=leg.label,
                symbol=leg.source.symbol or leg.label,
                strategy=registry.build(leg.strategy, leg.params),
                bars=leg_bars,
                facts=leg.facts,
                sizing=leg.sizing,
                money=leg_money(leg.currencies, leg.facts, currency, leg_bars["time"], quotes, f"legs.{i}"),
                period_s=leg.period_s,
            )
            for i, (leg, leg_bars) in enumerate(zip(spec.legs, bars, strict=True))
        ]
        result = run_portfolio(legs, spec.config, progress=ctx.progress, cancel=ctx.cancelled)
    except BacktestCancelled:
        raise JobCancelled(ctx.job_id) from None
    finally:
        for path in spec.bars_files:
            discard_bars(path)
    stored = spec.stored_params()["legs"]
    answer = result.to_dict(stored, runtime.stored_equity_points)
    _summary_store(runtime.summaries_db).put(ctx.job_id, summarize(answer["combined"]["metrics"]))
    return answer
