"""Parameter search: grid or seeded random sampling of a grid, ranked by one metric, optionally in parallel.

Combinations the strategy's parameter model refuses (e.g. fast >= slow) are skipped and counted. Work is
split into batches, a few per worker so progress moves and a slow batch does not hold the others back, and
handed to an executor (`core/executors/`), which gets the bars to its workers once per search.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.constraints import Constraint
from services.backtesting.core.engine import CancelFn, ProgressFn, bar_columns, check_cancel
from services.backtesting.core.executors import DEFAULT_CACHE_BYTES, InProcessExecutor, TrialExecutor
from services.backtesting.core.metrics import Metrics
from services.backtesting.core.overfitting_report import (
    OverfittingReport,
    OverfittingSettings,
    overfitting_report,
    pbo_sample,
    period_marks,
)
from services.backtesting.core.run_warnings import RunWarning, skip_warnings, sum_skipped
from services.backtesting.core.tick_engine import BarTicks
from services.backtesting.core.trials import Outcome, search_columns
from shared.errors import InvalidInputError
from shared.trading.registry import StrategyRegistry
from shared.trading.strategy import Bars

Scalar = int | float | bool | str


class ParamRange(BaseModel):
    """Values to try for one parameter: an explicit list (categorical), or start..stop (inclusive), by
    `step` on a grid, or continuous for a model-based sampler (`log` samples on a log scale)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    values: list[Scalar] | None = None
    start: float | None = None
    stop: float | None = None
    step: float | None = Field(default=None, gt=0)
    log: bool = False

    @model_validator(mode="after")
    def _one_form(self) -> ParamRange:
        if (self.values is None) == (self.start is None or self.stop is None):
            raise ValueError("give either values, or start and stop (and step for a grid)")
        if self.values is not None and (self.step is not None or self.log):
            raise ValueError("values take no step or log")
        if self.log and (self.step is not None or self.start is None or self.start <= 0):
            raise ValueError("a log range needs start > 0 and no step")
        return self

    @property
    def on_grid(self) -> bool:
        """Whether the range has a finite list of values (a grid or random search can take it)."""
        return self.values is not None or self.step is not None

    def expand(self) -> list[Scalar]:
        """The concrete values, integers kept integer when start and step are whole."""
        if self.values is not None:
            return list(self.values)
        if self.start is None or self.stop is None or self.step is None:
            raise InvalidInputError(
                "a grid or random search needs a step for every min..max range",
                code="invalid_space",
                details={"field": "step"},
            )
        count = math.floor((self.stop - self.start) / self.step + 1e-9) + 1
        values = [self.start + k * self.step for k in range(max(count, 0))]
        if float(self.start).is_integer() and float(self.step).is_integer():
            return [int(v) for v in values]
        return [round(v, 12) for v in values]


def metric_field(name: str) -> str:
    """The Metrics field for a field name or backtesting.py-style alias ("Sharpe Ratio")."""
    for field, info in Metrics.model_fields.items():
        if name in (field, info.serialization_alias):
            return field
    raise InvalidInputError(f"unknown metric {name!r}", code="unknown_metric", details={"metric": name})


def expand_space(space: Mapping[str, ParamRange]) -> tuple[list[str], list[tuple[Scalar, ...]]]:
    """Parameter names and the full grid of their value combinations."""
    names = list(space)
    value_lists = [space[name].expand() for name in names]
    empty = [name for name, values in zip(names, value_lists, strict=True) if not values]
    if not names or empty:
        raise InvalidInputError("empty parameter range", code="empty_range", details={"params": empty})
    return names, list(itertools.product(*value_lists))


def plan_combinations(
    space: Mapping[str, ParamRange],
    *,
    method: Literal["grid", "random"] = "grid",
    samples: int = 100,
    seed: int = 0,
    fixed_params: Mapping[str, Any] | None = None,
    constraints: Sequence[Constraint] = (),
) -> list[dict[str, Any]]:
    """The parameter sets a search evaluates: the whole grid, or `samples` of it drawn with `seed`;
    combinations breaking a constraint are left out before sampling, so none is wasted on them."""
    names, grid = expand_space(space)
    combos = [{**(fixed_params or {}), **dict(zip(names, values, strict=True))} for values in grid]
    combos = [c for c in combos if all(rule.holds(c) for rule in constraints)]
    if method == "random" and samples < len(combos):
        combos = random.Random(seed).sample(combos, samples)
    return combos


def search_warnings(outcomes: Sequence[Outcome], config: BacktestConfig) -> list[RunWarning]:
    """Skipped entries summed over the combinations, and how many combinations made no trade."""
    warnings = skip_warnings(
        sum_skipped(skipped for _, skipped, _ in outcomes), config, scope="over all combinations"
    )
    idle = sum(1 for metrics, _, _ in outcomes if metrics["trades"] == 0)
    if idle:
        message = (
            f"none of the {idle} combinations made a trade"
            if idle == len(outcomes)
            else f"{idle} of {len(outcomes)} combinations made no trades"
        )
        warnings.append(RunWarning(code="no_trades", message=message, count=idle))
    return warnings


def retry_warnings(retried: int) -> list[RunWarning]:
    """Batches sent again because the worker running them was lost (their results are complete)."""
    if not retried:
        return []
    message = f"{retried} batch{'es' if retried > 1 else ''} of combinations sent again after a lost worker"
    return [RunWarning(code="batches_retried", message=message, count=retried)]


class RankedParams(BaseModel):
    params: dict[str, Any]
    score: float | None
    metrics: dict[str, Any]


class Objective(BaseModel):
    """One metric a search optimises, and which way."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str
    direction: Literal["maximize", "minimize"] = "maximize"


class ParetoPoint(BaseModel):
    """A non-dominated trial of a multi-objective search: its parameters and objective values (in the
    order of `objectives`)."""

    model_config = ConfigDict(ser_json_inf_nan="null")

    params: dict[str, Any]
    values: list[float]
    metrics: dict[str, Any]


class OptimizationResult(BaseModel):
    """Top combinations by `metric`, counts, a two-parameter heat-map table when asked for, and how much
    of the best result may be selection (`overfitting`: null when no combination was valid)."""

    model_config = ConfigDict(ser_json_inf_nan="null")

    metric: str
    maximize: bool
    evaluated: int
    invalid: int
    top: list[RankedParams]
    heatmap: dict[str, Any] | None = None
    overfitting: OverfittingReport | None = None
    warnings: list[RunWarning] = []
    sampler: str = "grid"
    trials: int | None = None  # parameter sets asked for (a model-based sampler may ask for one twice)
    objectives: list[Objective] = []
    pareto_front: list[ParetoPoint] | None = None


def _score(metrics: dict[str, Any], field: str, maximize: bool) -> float:
    value = float(metrics[field])
    if math.isnan(value):
        return -math.inf  # undefined scores rank last
    return value if maximize else -value


def rank_outcomes(
    rows: Iterable[tuple[dict[str, Any], Outcome | None]], field: str, maximize: bool
) -> list[tuple[dict[str, Any], Outcome]]:
    """The evaluated rows, best first by `field`; ties keep their order (the top one is the trial the
    overfitting measures treat as selected)."""
    evaluated = [(params, outcome) for params, outcome in rows if outcome is not None]
    return sorted(evaluated, key=lambda row: _score(row[1][0], field, maximize), reverse=True)


def rank(
    rows: list[tuple[dict[str, Any], dict[str, Any]]], field: str, maximize: bool, top_n: int
) -> list[RankedParams]:
    """The best `top_n` (params, metrics) rows by `field`; sorts `rows` in place, best first."""
    rows.sort(key=lambda row: _score(row[1], field, maximize), reverse=True)
    return [
        RankedParams(
            params=params, score=None if math.isnan(metrics[field]) else metrics[field], metrics=metrics
        )
        for params, metrics in rows[:top_n]
    ]


def heatmap_table(
    rows: list[tuple[dict[str, Any], dict[str, Any]]], x: str, y: str, field: str, maximize: bool
) -> dict[str, Any]:
    """Best metric for each (x, y) pair over the other parameters."""
    x_values = sorted({p[x] for p, _ in rows})
    y_values = sorted({p[y] for p, _ in rows})
    cells: dict[tuple[Any, Any], float] = {}
    for params, metrics in rows:
        key, score = (params[x], params[y]), _score(metrics, field, maximize)
        if key not in cells or score > cells[key]:
            cells[key] = score
    sign = 1 if maximize else -1

    def cell(a: Any, b: Any) -> float | None:
        score = cells.get((a, b))
        return None if score is None or math.isinf(score) else sign * score

    return {
        "x": x,
        "y": y,
        "x_values": x_values,
        "y_values": y_values,
        "values": [[cell(a, b) for b in y_values] for a in x_values],
    }


def run_optimization(
    bars: Bars,
    strategy_name: str,
    space: Mapping[str, ParamRange],
    config: BacktestConfig,
    *,
    registry: StrategyRegistry,
    metric: str = "Sharpe Ratio",
    maximize: bool = True,
    method: Literal["grid", "random"] = "grid",
    samples: int = 100,
    seed: int = 0,
    top_n: int = 10,
    heatmap: tuple[str, str] | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    constraints: Sequence[Constraint] = (),
    executor: TrialExecutor | None = None,
    chunks_per_worker: int = 4,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    overfitting: OverfittingSettings | None = None,
    ticks: BarTicks | None = None,
) -> OptimizationResult:
    """Evaluate parameter combinations of `strategy_name` on `bars` (filled on `ticks` in a tick model) and
    rank them by `metric`; measure overfitting as `overfitting` (default: OverfittingSettings()) says."""
    overfitting = overfitting or OverfittingSettings()
    field = metric_field(metric)
    registry.get(strategy_name)
    if heatmap is not None and not set(heatmap) <= set(space):
        raise InvalidInputError("heat-map parameters must be in the search space", code="invalid_heatmap")
    combos = plan_combinations(
        space, method=method, samples=samples, seed=seed, fixed_params=fixed_params, constraints=constraints
    )
    cols = search_columns(bar_columns(bars), ticks)

    check_cancel(cancel)
    executor = executor or InProcessExecutor(registry, DEFAULT_CACHE_BYTES)
    size = max(1, math.ceil(len(combos) / (executor.workers * chunks_per_worker)))
    batches = [combos[k : k + size] for k in range(0, len(combos), size)]
    marks = period_marks(cols["time"], overfitting.max_periods)
    keep = pbo_sample(len(combos), overfitting.pbo_max_trials)
    keeps = [keep[k : k + size] for k in range(0, len(combos), size)]
    finished: dict[int, list[Outcome | None]] = {}
    retried = evaluated = 0
    report = progress or (lambda _fraction: None)
    stream = executor.evaluate(cols, strategy_name, batches, config, marks, keeps)
    try:
        for done in stream:
            finished[done.index] = done.outcomes
            retried += done.retries
            evaluated += len(done.outcomes)
            report(evaluated / len(combos))
            check_cancel(cancel)
    finally:
        stream.close()  # on a cancel or failure: the batches not yet finished are dropped
    # In plan order whatever order batches finished in, so that ties rank and the overfitting measures sum
    # the same way on every executor.
    results = [
        (params, outcome)
        for index, batch in enumerate(batches)
        for params, outcome in zip(batch, finished[index], strict=True)
    ]

    outcomes = [outcome for _, outcome in results if outcome is not None]
    ranked = rank_outcomes(results, field, maximize)
    valid = [(params, outcome[0]) for params, outcome in ranked]
    measured, overfitting_warnings = (
        overfitting_report([outcome[2] for _, outcome in ranked], 0, overfitting) if ranked else (None, [])
    )
    return OptimizationResult(
        metric=field,
        maximize=maximize,
        evaluated=len(valid),
        invalid=len(results) - len(valid),
        top=rank(valid, field, maximize, top_n),
        heatmap=heatmap_table(valid, *heatmap, field, maximize) if heatmap else None,
        overfitting=measured,
        warnings=search_warnings(outcomes, config) + overfitting_warnings + retry_warnings(retried),
        sampler=method,
        trials=len(results),
        objectives=[Objective(metric=field, direction="maximize" if maximize else "minimize")],
    )
