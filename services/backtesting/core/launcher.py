"""Starting backtest, optimisation and walk-forward jobs: everything a request can get wrong is checked
before the job exists, so a refused request persists nothing.

Checks, in order: the strategy and its parameters (or every combination of a search space), sizing
against the strategy (risk_percent needs a stop-loss), the metric and heat-map axes, the time range (in order,
and not past the market's now), the symbol, the bars themselves (fetched from the data service with a bounded timeout, or posted inline), the
size limits, and the strategy's warm-up against the bar count. Only then are the bars written to the spool
and the job submitted with its typed spec (`core/specs.py`), the service's `RunRuntime` bound to its job
function.

Omitted account fields take one set of defaults (`defaults()`, also served to the dashboard): leverage from
the mt5 service's account, else `backtesting.default_leverage`; sizing `backtesting.default_sizing`; costs
`backtesting.default_costs`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.util
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from services.backtesting.core.config import BacktestConfig, Model, SymbolFacts, TickAccount
from services.backtesting.core.constraints import Constraint, parse_constraints
from services.backtesting.core.engine import first_signal_bar
from services.backtesting.core.jobs import RunRuntime, backtest_job, optimization_job, walk_forward_job
from services.backtesting.core.market_data import RunMarket
from services.backtesting.core.optimize import Objective, ParamRange, metric_field, plan_combinations
from services.backtesting.core.requests import (
    BacktestRequest,
    MarketInput,
    OptimizeRequest,
    RunInput,
    SearchInput,
    WalkForwardRequest,
)
from services.backtesting.core.specs import (
    BacktestJobSpec,
    BarSource,
    DataSource,
    InlineSource,
    OptimizeJobSpec,
    RunSpec,
    WalkForwardJobSpec,
)
from services.backtesting.core.studies import (
    MODEL_SAMPLERS,
    MULTI_OBJECTIVE_SAMPLERS,
    SearchPlan,
    distributions,
    integer_params,
)
from services.backtesting.core.walk_forward import window_bounds
from services.backtesting.settings import BacktestingSection
from shared.errors import ConflictError, InvalidInputError
from shared.jobs import JobContext, JobManager
from shared.market.bar_spool import BarSpool, discard_bars
from shared.market.clock import refuse_future
from shared.market.names import canonical_timeframe
from shared.market.timeframes import get_timeframe
from shared.trading.registry import StrategyRegistry
from shared.trading.sizing import SizingConfig, SizingMode
from shared.trading.strategy import Strategy
from shared.utils import parse_time_s

SpecT = TypeVar("SpecT", bound=RunSpec)
RunJob = Callable[[RunRuntime, SpecT, JobContext], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Market:
    """The bars of a request, the symbol's facts, and how the bars were chosen (stored with the job)."""

    columns: dict[str, np.ndarray]
    facts: SymbolFacts
    source: BarSource
    ticks: dict[str, np.ndarray] | None = None  # the tick models' time_msc, bid, ask
    tick_account: TickAccount = field(default_factory=TickAccount)

    @property
    def n_bars(self) -> int:
        return len(self.columns["time"])


def _range_size(r: ParamRange, cap: int) -> int:
    """How many values a range expands to, counted only up to `cap + 1`: a huge range must not eat memory
    by expanding, nor (1e-300 steps, 1e308 spans) give a count too large for JSON or no count at all."""
    if r.values is not None:
        return min(len(r.values), cap + 1)
    assert r.start is not None and r.stop is not None and r.step is not None
    steps = (r.stop - r.start) / r.step + 1e-9
    if not steps < cap:  # also an infinite quotient
        return cap + 1
    return max(math.floor(steps) + 1, 0)


def _objective_metric(name: str, field: str) -> str:
    """`name` if it is a metric, else a 422 naming the objective's field."""
    try:
        metric_field(name)
    except InvalidInputError as exc:
        raise InvalidInputError(exc.message, code=exc.code, details={**exc.details, "field": field}) from None
    return name


def _bounds(dist: BaseDistribution) -> list[Any]:
    """A distribution's extreme values: its bounds, or every category."""
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    assert isinstance(dist, IntDistribution | FloatDistribution)
    return [dist.low, dist.high]


@dataclass(frozen=True, slots=True)
class AccountDefaults:
    """What an omitted leverage, sizing and costs become, and where the leverage came from."""

    leverage: float
    leverage_source: str  # "account" or "config"
    sizing: SizingConfig


def _needs_stop(sizing: SizingConfig, strategies: list[Strategy[Any]]) -> None:
    """Refuse risk-percent sizing when no strategy of the run sets a stop-loss: every size would be 0."""
    if sizing.mode != SizingMode.RISK_PERCENT or any(s.sets_stop_loss for s in strategies):
        return
    name = strategies[0].name
    raise InvalidInputError(
        f"sizing risk_percent sizes against the stop-loss, and {name} sets none with these parameters, so "
        "every trade would be 0 lots; use fixed or equity_fraction sizing, or a strategy that sets a stop",
        code="invalid_sizing",
        details={"field": "sizing.mode", "strategy": name, "reason": "no_stop_loss"},
    )


def bars_model_only(req: RunInput, kind: str) -> None:
    """Portfolios run the bars model only, for now: each of their legs would need its own ticks."""
    if req.model != Model.BARS:
        raise InvalidInputError(
            f"{kind} runs the bars model only, for now; model {req.model} is for backtests, optimisations "
            "and walk-forwards",
            code="invalid_model",
            details={"field": "model", "model": str(req.model)},
        )


class RunLauncher:
    """Validates run requests and submits them as jobs."""

    def __init__(
        self,
        *,
        jobs: JobManager,
        registry: StrategyRegistry,
        market: RunMarket,
        spool: BarSpool,
        section: BacktestingSection,
        runtime: RunRuntime,
    ) -> None:
        self._jobs = jobs
        self._registry = registry
        self._market = market
        self._spool = spool
        self._section = section
        self._runtime = runtime

    async def start_backtest(self, req: BacktestRequest) -> dict[str, Any]:
        strategy = self._registry.build(req.strategy, req.params)
        _needs_stop(self._sizing(req), [strategy])
        market = await self._load_market(req)
        first_signal_bar(strategy, market.n_bars)
        return await self._submit(
            "backtest",
            backtest_job,
            req,
            market,
            lambda config, bars_file: BacktestJobSpec(
                strategy=req.strategy,
                params=dict(req.params),
                source=market.source,
                config=config,
                bars_file=bars_file,
            ),
        )

    async def start_optimization(self, req: OptimizeRequest) -> dict[str, Any]:
        space, plan, rules = self._search(req)
        if req.heatmap is not None and not set(req.heatmap) <= set(req.space):
            raise InvalidInputError(
                f"heatmap {list(req.heatmap)} must name parameters of the space ({', '.join(req.space)})",
                code="invalid_heatmap",
                details={"field": "heatmap"},
            )
        combos = self._probe(req, space, plan, rules)
        deepest, any_stop = await asyncio.to_thread(self._deepest_valid, req.strategy, combos)
        _needs_stop(self._sizing(req), [deepest, any_stop])
        market = await self._load_market(req)
        first_signal_bar(deepest, market.n_bars)
        return await self._submit(
            "optimization",
            optimization_job,
            req,
            market,
            lambda config, bars_file: OptimizeJobSpec(
                **self._search_fields(req, space, plan),
                source=market.source,
                config=config,
                bars_file=bars_file,
                top_n=req.top_n,
                heatmap=req.heatmap,
                combinations=None if plan.sampler in MODEL_SAMPLERS else len(combos),
            ),
        )

    async def start_walk_forward(self, req: WalkForwardRequest) -> dict[str, Any]:
        space, plan, rules = self._search(req)
        combos = self._probe(req, space, plan, rules)
        deepest, any_stop = await asyncio.to_thread(self._deepest_valid, req.strategy, combos)
        _needs_stop(self._sizing(req), [deepest, any_stop])
        first_signal_bar(deepest, req.in_sample_bars)  # every in-sample search must be able to trade
        market = await self._load_market(req)
        windows = window_bounds(market.n_bars, req.in_sample_bars, req.out_of_sample_bars, req.anchored)
        if not windows:
            raise InvalidInputError(
                f"{market.n_bars} bars hold no in-sample {req.in_sample_bars} + out-of-sample "
                f"{req.out_of_sample_bars} window",
                code="insufficient_data",
                details={"bars": market.n_bars},
            )
        return await self._submit(
            "walk_forward",
            walk_forward_job,
            req,
            market,
            lambda config, bars_file: WalkForwardJobSpec(
                **self._search_fields(req, space, plan),
                source=market.source,
                config=config,
                bars_file=bars_file,
                in_sample_bars=req.in_sample_bars,
                out_of_sample_bars=req.out_of_sample_bars,
                anchored=req.anchored,
                windows=len(windows),
            ),
        )

    def _search(self, req: SearchInput) -> tuple[dict[str, ParamRange], SearchPlan, list[Constraint]]:
        """The space, the search plan and the parsed constraints of a request, each checked."""
        space = self._space(req)
        objectives = [
            Objective(metric=_objective_metric(o.metric, f"objectives.{k}.metric"), direction=o.direction)
            for k, o in enumerate(req.objectives or [])
        ] or [Objective(metric=req.metric, direction="maximize" if req.maximize else "minimize")]
        if len(objectives) > 1 and req.sampler not in MULTI_OBJECTIVE_SAMPLERS:
            raise InvalidInputError(
                f"sampler {req.sampler} optimises one objective; use tpe or nsga2 for several",
                code="invalid_sampler",
                details={"field": "sampler", "objectives": len(objectives)},
            )
        if req.sampler == "cmaes" and importlib.util.find_spec("cmaes") is None:
            raise InvalidInputError(
                "sampler cmaes needs the cmaes package, which is not installed here",
                code="sampler_unavailable",
                details={"field": "sampler"},
            )
        if req.sampler in MODEL_SAMPLERS and req.n_trials > self._section.max_trials:
            raise InvalidInputError(
                f"n_trials {req.n_trials:,} exceeds the limit of {self._section.max_trials:,} "
                "(backtesting.max_trials)",
                code="too_many_trials",
                details={"field": "n_trials", "max_trials": self._section.max_trials},
            )
        rules = parse_constraints(req.constraints, set(space) | set(req.params))
        plan = SearchPlan(
            sampler=req.sampler,
            objectives=tuple(objectives),
            constraints=tuple(req.constraints),
            n_trials=req.n_trials,
            samples=req.samples,
            seed=req.seed,
        )
        return space, plan, rules

    def _probe(
        self, req: SearchInput, space: dict[str, ParamRange], plan: SearchPlan, rules: list[Constraint]
    ) -> list[dict[str, Any]]:
        """The parameter sets a grid or random search runs; for a model-based sampler, the corners of the
        space (its bounds and categories) that the warm-up and sizing checks try."""
        if plan.sampler in MODEL_SAMPLERS:
            dists = distributions(space, integer_params(self._registry, req.strategy))
            corners = {name: ParamRange(values=_bounds(d)) for name, d in dists.items()}
            combos = plan_combinations(corners, fixed_params=req.params)[: self._section.max_combinations]
            allowed = [c for c in combos if all(rule.holds(c) for rule in rules)]
            return allowed or combos  # the constraints may keep only the inside of the space
        combos = plan_combinations(
            space,
            method="random" if plan.sampler == "random" else "grid",
            samples=plan.samples,
            seed=plan.seed,
            fixed_params=req.params,
            constraints=rules,
        )
        if not combos:
            raise InvalidInputError(
                "no combination of the space satisfies the constraints",
                code="invalid_constraint",
                details={"field": "constraints"},
            )
        return combos

    def _space(self, req: SearchInput) -> dict[str, ParamRange]:
        """The search space as core ranges; refuses unknown strategies and metrics and oversized grids."""
        self._registry.get(req.strategy)
        metric_field(req.metric)
        space = {name: spec.to_range() for name, spec in req.space.items()}
        if req.sampler in MODEL_SAMPLERS:
            return space  # sampled, not enumerated: n_trials bounds the work instead
        for name, r in space.items():
            if not r.on_grid:
                raise InvalidInputError(
                    f"sampler {req.sampler} enumerates values: give {name} a step or values "
                    "(or use tpe, cmaes or nsga2 for a continuous range)",
                    code="invalid_space",
                    details={"field": f"space.{name}.step"},
                )
        cap = self._section.max_combinations
        sizes = {name: _range_size(r, cap) for name, r in space.items()}
        size = 1
        for count in sizes.values():
            size = min(size * count, cap + 1)
        if size > cap:
            too_large = [name for name, count in sizes.items() if count > cap]
            raise InvalidInputError(
                f"the space holds more than {cap:,} combinations, the most allowed "
                "(backtesting.max_combinations)",
                code="too_many_combinations",
                details={
                    "field": f"space.{too_large[0]}" if too_large else "space",
                    "combinations": f"more than {cap}",
                    "max_combinations": cap,
                },
            )
        return space

    def _deepest_valid(self, name: str, combos: list[dict[str, Any]]) -> tuple[Strategy[Any], Strategy[Any]]:
        """The valid combination with the longest warm-up, and one that sets a stop-loss if any does (else the
        deepest again); refuses a space with no valid combination."""
        deepest: Strategy[Any] | None = None
        with_stop: Strategy[Any] | None = None
        first_error: InvalidInputError | None = None
        for params in combos:
            try:
                strategy = self._registry.build(name, params)
            except InvalidInputError as exc:
                first_error = first_error or exc
                continue
            if deepest is None or strategy.warmup > deepest.warmup:
                deepest = strategy
            if with_stop is None and strategy.sets_stop_loss:
                with_stop = strategy
        if deepest is None:
            assert first_error is not None  # combos is never empty: expand_space refuses empty ranges
            raise InvalidInputError(
                f"no combination of the space is valid; e.g. {first_error.message}",
                code="invalid_params",
                details=first_error.details,
            )
        return deepest, with_stop or deepest

    @staticmethod
    def _search_fields(req: SearchInput, space: Mapping[str, ParamRange], plan: SearchPlan) -> dict[str, Any]:
        first = plan.objectives[0]
        return {
            "strategy": req.strategy,
            "params": dict(req.params),
            "space": dict(space),
            "metric": first.metric,
            "maximize": first.direction == "maximize",
            **plan.model_dump(),
        }

    async def _load_market(self, req: MarketInput) -> Market:
        """The request's bars, facts and (tick models) ticks, every limit checked."""
        if req.bars is not None:
            columns = await asyncio.to_thread(req.bars.checked)
            source: BarSource = InlineSource(
                symbol=req.symbol, timeframe=req.timeframe, bars=len(columns["time"])
            )
            facts = req.symbol_facts or (
                await self._market.symbol_facts(req.symbol) if req.symbol else SymbolFacts()
            )
        else:
            assert req.symbol is not None and req.from_ is not None and req.to is not None  # schema checked
            timeframe = canonical_timeframe(req.timeframe or "", "body.timeframe")
            from_s, to_s = parse_time_s(req.from_, field="from"), parse_time_s(req.to, field="to")
            if from_s > to_s:
                raise InvalidInputError(
                    f"empty range: from ({from_s}) is after to ({to_s})",
                    code="empty_range",
                    details={"from": from_s, "to": to_s},
                )
            # Refused rather than clipped: a run over a window that is not over yet would silently test a
            # shorter one; and the data service would call the bars not there yet "missing".
            refuse_future(await self._market.market_now_ms(), from_s, to_s)
            facts = req.symbol_facts or await self._market.symbol_facts(req.symbol)
            columns = await self._market.bars(req.symbol, timeframe, from_s, to_s, allow_gaps=req.allow_gaps)
            if len(columns["time"]) == 0:
                raise InvalidInputError(
                    f"no {req.symbol} {timeframe} bars in [{from_s}, {to_s}]",
                    code="empty_range",
                    details={"symbol": req.symbol, "timeframe": timeframe, "from": from_s, "to": to_s},
                )
            source = DataSource(
                symbol=req.symbol, timeframe=timeframe, from_s=from_s, to_s=to_s, bars=len(columns["time"])
            )
        n_bars = len(columns["time"])
        if n_bars > self._section.max_bars:
            raise InvalidInputError(
                f"{n_bars:,} bars exceed the limit of {self._section.max_bars:,} (backtesting.max_bars)",
                code="too_many_bars",
                details={"bars": n_bars, "max_bars": self._section.max_bars},
            )
        market = Market(columns=columns, facts=facts, source=source)
        if isinstance(req, RunInput) and req.model != Model.BARS:
            market = await self._with_ticks(req, market, allow_gaps=req.allow_gaps)
        return market

    async def _with_ticks(self, req: RunInput, market: Market, *, allow_gaps: bool) -> Market:
        """The market with the ticks of its bars' span: the stored ones (model ticks) or four per M1 bar."""
        from services.backtesting.core.tick_engine import m1_ticks

        source = market.source
        if not isinstance(source, DataSource):
            raise InvalidInputError(
                f"model {req.model} reads the data service's ticks or M1 bars: give symbol, timeframe, from and "
                "to instead of inline bars",
                code="invalid_model",
                details={"field": "model"},
            )
        seconds = get_timeframe(source.timeframe).seconds
        if seconds == 0:
            raise InvalidInputError(
                "tick models need a fixed-length timeframe (not MN1)",
                code="invalid_model",
                details={"field": "model"},
            )
        # The ticks of every bar, up to the last one's close (its signal has no later tick to fill at).
        from_ms = int(market.columns["time"][0]) * 1000
        to_ms = (int(market.columns["time"][-1]) + seconds) * 1000 - 1
        section = self._section
        if req.model == Model.TICKS:
            ticks = await self._market.ticks(
                source.symbol, from_ms, to_ms, max_ticks=section.max_ticks, chunk=section.tick_chunk
            )
        else:
            # Checked for completeness as the bars are: a missing M1 stretch would walk as a flat price.
            m1 = await self._market.bars(
                source.symbol, "M1", from_ms // 1000, to_ms // 1000 - 59, allow_gaps=allow_gaps
            )
            walked = await asyncio.to_thread(m1_ticks, m1, market.facts.point)
            ticks = {"time_msc": walked.time_msc, "bid": walked.bid, "ask": walked.ask}
            if len(walked) == 0:
                raise ConflictError(
                    f"no stored {source.symbol} M1 bars in [{from_ms // 1000}, {to_ms // 1000}]",
                    code="no_ticks",
                    details={"symbol": source.symbol, "from": from_ms, "to": to_ms},
                )
        account = await self._market.tick_account(
            source.symbol, sl_points=req.sl_points, tp_points=req.tp_points
        )
        return dataclasses.replace(market, ticks=ticks, tick_account=account)

    def _sizing(self, req: RunInput) -> SizingConfig:
        return req.sizing or self._section.default_sizing

    async def defaults(self) -> AccountDefaults:
        """What an omitted leverage and sizing become: the account's leverage when the mt5 service can tell."""
        leverage = await self._market.account_leverage()
        if leverage is None:
            return AccountDefaults(self._section.default_leverage, "config", self._section.default_sizing)
        return AccountDefaults(leverage, "account", self._section.default_sizing)

    async def run_defaults(self, symbol: str | None) -> dict[str, Any]:
        """Every default of a run request, with the symbol's facts when a symbol is named."""
        defaults = await self.defaults()
        facts = await self._market.symbol_facts(symbol) if symbol else None
        return {
            "initial_balance": RunInput.model_fields["initial_balance"].default,
            "leverage": defaults.leverage,
            "leverage_source": defaults.leverage_source,
            "sizing": defaults.sizing,
            "costs": self._section.default_costs,
            "symbol_facts": facts,
        }

    async def _config(
        self, req: RunInput, facts: SymbolFacts, tick_account: TickAccount | None = None
    ) -> BacktestConfig:
        leverage = req.leverage if req.leverage is not None else (await self.defaults()).leverage
        return BacktestConfig(
            initial_balance=req.initial_balance,
            leverage=leverage,
            costs=req.costs or self._section.default_costs,
            sizing=self._sizing(req),
            fill=req.fill,
            finalize_trades=req.finalize_trades,
            symbol=facts,
            model=req.model,
            tick_account=tick_account or TickAccount(),
        )

    async def _submit(
        self,
        kind: str,
        job: RunJob[SpecT],
        req: RunInput,
        market: Market,
        spec: Callable[[BacktestConfig, str], SpecT],
    ) -> dict[str, Any]:
        """Fill in the run's defaults, spool its bars, and submit `spec(config, bars_file)` to `job`."""
        config = await self._config(req, market.facts, market.tick_account)
        bars_file = await asyncio.to_thread(self._spool.write, market.columns)
        ticks_file = (
            None if market.ticks is None else await asyncio.to_thread(self._spool.write, market.ticks)
        )
        try:
            run_spec = spec(config, bars_file).model_copy(update={"ticks_file": ticks_file})
            return self._jobs.submit(kind, run_spec, partial(job, self._runtime))
        except BaseException:
            discard_bars(bars_file)  # no job will ever read them
            if ticks_file is not None:
                discard_bars(ticks_file)
            raise
