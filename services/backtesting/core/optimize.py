"""Parameter search: grid or seeded random sampling of a grid, ranked by one metric, optionally in parallel.

Combinations the strategy's parameter model refuses (e.g. fast >= slow) are skipped and counted. Work is
split into batches, a few per worker so progress moves and a slow batch does not hold the others back, and
handed to an executor (`core/executors/`), which gets the bars to its workers once per search.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.engine import CancelFn, ProgressFn, bar_columns, check_cancel
from services.backtesting.core.executors import DEFAULT_CACHE_BYTES, InProcessExecutor, TrialExecutor
from services.backtesting.core.metrics import Metrics
from services.backtesting.core.run_warnings import RunWarning, skip_warnings, sum_skipped
from services.backtesting.core.trials import Outcome
from shared.errors import InvalidInputError
from shared.trading.registry import StrategyRegistry
from shared.trading.strategy import Bars

Scalar = int | float | bool | str


class ParamRange(BaseModel):
    """Values to try for one parameter: an explicit list, or start..stop (inclusive) by step."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    values: list[Scalar] | None = None
    start: float | None = None
    stop: float | None = None
    step: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_form(self) -> ParamRange:
        if (self.values is None) == (self.start is None or self.stop is None or self.step is None):
            raise ValueError("give either values, or start, stop and step")
        return self

    def expand(self) -> list[Scalar]:
        """The concrete values, integers kept integer when start and step are whole."""
        if self.values is not None:
            return list(self.values)
        assert self.start is not None and self.stop is not None and self.step is not None
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
) -> list[dict[str, Any]]:
    """The parameter sets a search evaluates: the whole grid, or `samples` of it drawn with `seed`."""
    names, grid = expand_space(space)
    if method == "random" and samples < len(grid):
        grid = random.Random(seed).sample(grid, samples)
    return [{**(fixed_params or {}), **dict(zip(names, values, strict=True))} for values in grid]


def search_warnings(outcomes: Sequence[Outcome], config: BacktestConfig) -> list[RunWarning]:
    """Skipped entries summed over the combinations, and how many combinations made no trade."""
    warnings = skip_warnings(
        sum_skipped(skipped for _, skipped in outcomes), config, scope="over all combinations"
    )
    idle = sum(1 for metrics, _ in outcomes if metrics["trades"] == 0)
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


class OptimizationResult(BaseModel):
    """Top combinations by `metric`, counts, and a two-parameter heat-map table when asked for."""

    model_config = ConfigDict(ser_json_inf_nan="null")

    metric: str
    maximize: bool
    evaluated: int
    invalid: int
    top: list[RankedParams]
    heatmap: dict[str, Any] | None = None
    warnings: list[RunWarning] = []


def _score(metrics: dict[str, Any], field: str, maximize: bool) -> float:
    value = float(metrics[field])
    if math.isnan(value):
        return -math.inf  # undefined scores rank last
    return value if maximize else -value


def _heatmap(
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
    executor: TrialExecutor | None = None,
    chunks_per_worker: int = 4,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> OptimizationResult:
    """Evaluate parameter combinations of `strategy_name` on `bars` and rank them by `metric`."""
    field = metric_field(metric)
    registry.get(strategy_name)
    if heatmap is not None and not set(heatmap) <= set(space):
        raise InvalidInputError("heat-map parameters must be in the search space", code="invalid_heatmap")
    combos = plan_combinations(space, method=method, samples=samples, seed=seed, fixed_params=fixed_params)
    cols = bar_columns(bars)

    check_cancel(cancel)
    executor = executor or InProcessExecutor(registry, DEFAULT_CACHE_BYTES)
    size = max(1, math.ceil(len(combos) / (executor.workers * chunks_per_worker)))
    batches = [combos[k : k + size] for k in range(0, len(combos), size)]
    finished: dict[int, list[Outcome | None]] = {}
    retried = evaluated = 0
    report = progress or (lambda _fraction: None)
    stream = executor.evaluate(cols, strategy_name, batches, config)
    try:
        for done in stream:
            finished[done.index] = done.outcomes
            retried += done.retries
            evaluated += len(done.outcomes)
            report(evaluated / len(combos))
            check_cancel(cancel)
    finally:
        stream.close()  # on a cancel or failure: the batches not yet finished are dropped
    # In plan order whatever order batches finished in, so equal scores rank the same on every executor.
    results = [
        (params, outcome)
        for index, batch in enumerate(batches)
        for params, outcome in zip(batch, finished[index], strict=True)
    ]

    outcomes = [outcome for _, outcome in results if outcome is not None]
    valid = [(params, outcome[0]) for params, outcome in results if outcome is not None]
    valid.sort(key=lambda row: _score(row[1], field, maximize), reverse=True)
    top = [
        RankedParams(
            params=params, score=None if math.isnan(metrics[field]) else metrics[field], metrics=metrics
        )
        for params, metrics in valid[:top_n]
    ]
    return OptimizationResult(
        metric=field,
        maximize=maximize,
        evaluated=len(valid),
        invalid=len(results) - len(valid),
        top=top,
        heatmap=_heatmap(valid, *heatmap, field, maximize) if heatmap else None,
        warnings=search_warnings(outcomes, config) + retry_warnings(retried),
    )
