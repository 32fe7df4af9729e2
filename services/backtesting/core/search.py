"""Model-based parameter search with Optuna: TPE, CMA-ES, or NSGA-II for several objectives at once.

Trials are asked from the study in batches, evaluated through the same `evaluate_chunk` as a grid (in
process, or on the executor the job hands in), and told back. A trial that breaks a constraint or that the
strategy's parameter model refuses is pruned without a backtest. Every finished trial stores its outcome as
user attributes, so a study kept in a database (Optuna's RDB storage) can be reopened under the same name
after a restart and carries on from its finished trials; trials that were in flight are asked again.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any, Literal

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.samplers import BaseSampler, CmaEsSampler, NSGAIISampler, TPESampler
from optuna.trial import FrozenTrial, TrialState
from pydantic import BaseModel, ConfigDict, Field

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.constraints import parse_constraints
from services.backtesting.core.engine import CancelFn, ProgressFn, bar_columns, check_cancel
from services.backtesting.core.optimize import (
    Objective,
    OptimizationResult,
    Outcome,
    ParamRange,
    ParetoPoint,
    evaluate_chunk,
    heatmap_table,
    metric_field,
    rank,
    run_optimization,
    search_warnings,
)
from shared.errors import InvalidInputError
from shared.trading.registry import StrategyRegistry
from shared.trading.strategy import Bars

SamplerName = Literal["grid", "random", "tpe", "cmaes", "nsga2"]
MODEL_SAMPLERS: frozenset[str] = frozenset({"tpe", "cmaes", "nsga2"})
# Samplers that optimise several objectives at once (and so return a Pareto front).
MULTI_OBJECTIVE_SAMPLERS: frozenset[str] = frozenset({"tpe", "nsga2"})

optuna.logging.set_verbosity(optuna.logging.WARNING)  # one INFO line per trial would flood the job logs

_OUTCOME = "outcome"  # user attribute: "evaluated" or "invalid"; absent on a trial cut short by a restart
_METRICS, _SKIPPED, _REASON = "metrics", "skipped", "reason"


class SearchPlan(BaseModel):
    """How a search picks parameter sets: the sampler, its objectives, constraints and budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sampler: SamplerName = "grid"
    objectives: tuple[Objective, ...] = Field(min_length=1)
    constraints: tuple[str, ...] = ()
    n_trials: int = Field(default=100, ge=1, description="model-based samplers: trials run")
    samples: int = Field(default=100, ge=1, description="random search: combinations drawn")
    seed: int = 0


class TrialReport(BaseModel):
    """One finished trial, with the best so far (by the first objective) and how far the study got."""

    model_config = ConfigDict(ser_json_inf_nan="null")

    trial: int
    state: Literal["evaluated", "invalid"]
    params: dict[str, Any]
    values: list[float | None] | None
    done: int
    total: int
    best_params: dict[str, Any] | None
    best_values: list[float | None] | None


TrialFn = Callable[[TrialReport], None]


def distributions(space: Mapping[str, ParamRange], int_params: frozenset[str]) -> dict[str, BaseDistribution]:
    """Optuna's distribution for each range: categorical for a list of values, else an integer or float
    range (by the strategy's field type), stepped or continuous, optionally on a log scale."""
    out: dict[str, BaseDistribution] = {}
    for name, r in space.items():
        if r.values is not None:
            out[name] = CategoricalDistribution(r.values)
            continue
        assert r.start is not None and r.stop is not None  # ParamRange's own check
        if name in int_params:
            low, high = math.ceil(r.start), math.floor(r.stop)
            step = 1 if r.step is None else max(1, round(r.step))
            if low > high:
                raise InvalidInputError(
                    f"{name} is an integer and {r.start}..{r.stop} holds none",
                    code="invalid_space",
                    details={"field": f"space.{name}"},
                )
            out[name] = IntDistribution(low, high, log=r.log, step=step)
        else:
            out[name] = FloatDistribution(r.start, r.stop, log=r.log, step=r.step)
    return out


def integer_params(registry: StrategyRegistry, strategy_name: str) -> frozenset[str]:
    """The strategy's parameters typed `int` in its parameter model."""
    fields = registry.get(strategy_name).Params.model_fields
    return frozenset(name for name, info in fields.items() if info.annotation is int)


def make_sampler(name: str, seed: int, n_trials: int) -> BaseSampler:
    """The Optuna sampler called `name`, seeded so a search can be repeated."""
    if name == "tpe":
        return TPESampler(seed=seed)
    if name == "cmaes":
        return CmaEsSampler(seed=seed)
    if name == "nsga2":
        # A generation of at most a fifth of the budget, so a small study still evolves a few times.
        return NSGAIISampler(seed=seed, population_size=min(50, max(4, n_trials // 5)))
    raise ValueError(f"{name} is not a model-based sampler")


def open_study(plan: SearchPlan, *, storage: str | None, study_name: str | None) -> optuna.Study:
    """Create the study, or reopen the one stored under `study_name` (its in-flight trials asked again)."""
    rdb = (
        optuna.storages.RDBStorage(storage, engine_kwargs={"connect_args": {"timeout": 30}})
        if storage
        else None
    )
    study = optuna.create_study(
        storage=rdb,
        study_name=study_name,
        load_if_exists=True,
        sampler=make_sampler(plan.sampler, plan.seed, plan.n_trials),
        directions=[o.direction for o in plan.objectives],
    )
    fields = [metric_field(o.metric) for o in plan.objectives]
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if _OUTCOME in trial.user_attrs:  # stopped between recording its outcome and telling it
            _tell(study, trial.number, _stored_outcome(trial), fields)
            continue
        # Cut short by a restart before its outcome: fail it and ask for its parameters again.
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        study.enqueue_trial(trial.params)
    return study


def _record(trial: optuna.Trial, outcome: Outcome | None, refused_by: str) -> None:
    """Store a trial's outcome in the study (the outcome mark last: with it, the rest is there)."""
    if outcome is None:
        trial.set_user_attr(_REASON, refused_by)
        trial.set_user_attr(_OUTCOME, "invalid")
        return
    trial.set_user_attr(_METRICS, outcome[0])
    trial.set_user_attr(_SKIPPED, [int(n) for n in outcome[1]])
    trial.set_user_attr(_OUTCOME, "evaluated")


def _tell(study: optuna.Study, trial: int, outcome: Outcome | None, fields: Sequence[str]) -> None:
    """Finish trial number `trial` with its outcome: pruned when refused, failed when a value is undefined
    (no trades: no Sharpe), so the sampler learns nothing from it."""
    if outcome is None:
        study.tell(trial, state=TrialState.PRUNED)
        return
    values = _values(outcome[0], fields)
    study.tell(trial, values, state=TrialState.COMPLETE if values else TrialState.FAIL)


def _key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def _stored_outcome(trial: FrozenTrial) -> Outcome | None:
    """A finished trial's outcome as `evaluate_chunk` gave it (None: the parameter model refused it)."""
    if trial.user_attrs[_OUTCOME] != "evaluated":
        return None
    return trial.user_attrs[_METRICS], np.asarray(trial.user_attrs[_SKIPPED], dtype=np.int64)


def _finished(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if _OUTCOME in t.user_attrs]


def _values(metrics: Mapping[str, Any], fields: Sequence[str]) -> list[float] | None:
    values = [float(metrics[f]) for f in fields]
    return values if all(math.isfinite(v) for v in values) else None


def _best(rows: list[tuple[dict[str, Any], dict[str, Any]]], fields: Sequence[str], plan: SearchPlan) -> Any:
    """The best evaluated row by the first objective (None if none has a finite value)."""
    sign = 1.0 if plan.objectives[0].direction == "maximize" else -1.0
    scored = [(sign * float(m[fields[0]]), p, m) for p, m in rows if math.isfinite(float(m[fields[0]]))]
    return max(scored, key=lambda row: row[0], default=None)


def run_search(
    bars: Bars,
    strategy_name: str,
    space: Mapping[str, ParamRange],
    config: BacktestConfig,
    *,
    registry: StrategyRegistry,
    plan: SearchPlan,
    top_n: int = 10,
    heatmap: tuple[str, str] | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    executor: Executor | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_trial: TrialFn | None = None,
) -> OptimizationResult:
    """Run `plan.n_trials` trials of `plan.sampler` (counting those a stored study already finished)."""
    fields = [metric_field(o.metric) for o in plan.objectives]
    constraints = parse_constraints(list(plan.constraints), set(space) | set(fixed_params or {}))
    dists = distributions(space, integer_params(registry, strategy_name))
    study = open_study(plan, storage=storage, study_name=study_name)
    cols = bar_columns(bars)
    workers = getattr(executor, "_max_workers", 1) if executor is not None else 1
    report = progress or (lambda _fraction: None)
    done = len(_finished(study))
    evaluated = [
        (t.params, t.user_attrs[_METRICS]) for t in _finished(study) if t.user_attrs[_OUTCOME] == "evaluated"
    ]
    seen: dict[str, Outcome | None] = {
        _key({**(fixed_params or {}), **t.params}): _stored_outcome(t) for t in _finished(study)
    }
    while done < plan.n_trials:
        check_cancel(cancel)
        batch = [study.ask(dists) for _ in range(min(2 * workers, plan.n_trials - done))]
        runnable = []
        for trial in batch:
            params = {**(fixed_params or {}), **trial.params}
            if all(rule.holds(params) for rule in constraints):
                runnable.append((trial, params))
            else:
                _record(trial, None, "constraint")
                _tell(study, trial.number, None, fields)
                done += 1
                _report(on_trial, trial.number, "invalid", trial.params, None, done, plan, evaluated, fields)
        # A sampler may ask for a parameter set again (small discrete spaces): its outcome is reused.
        fresh = list({_key(p): p for _, p in runnable if _key(p) not in seen}.values())
        outcomes = _evaluate(cols, strategy_name, fresh, config, registry, executor, workers)
        seen.update(zip(map(_key, fresh), outcomes, strict=True))
        for trial, params in runnable:
            outcome = seen[_key(params)]
            done += 1
            _record(trial, outcome, "params")
            _tell(study, trial.number, outcome, fields)
            if outcome is None:
                _report(on_trial, trial.number, "invalid", trial.params, None, done, plan, evaluated, fields)
                continue
            evaluated.append((trial.params, outcome[0]))
            raw = [float(outcome[0][f]) for f in fields]
            _report(on_trial, trial.number, "evaluated", trial.params, raw, done, plan, evaluated, fields)
        report(done / plan.n_trials)
    return _result(study, plan, fields, config, top_n, heatmap)


def _evaluate(
    cols: Mapping[str, np.ndarray],
    strategy_name: str,
    combos: list[dict[str, Any]],
    config: BacktestConfig,
    registry: StrategyRegistry,
    executor: Executor | None,
    workers: int,
) -> list[Outcome | None]:
    """`evaluate_chunk` over `combos`, split into one chunk per worker when there is an executor."""
    if executor is None or len(combos) <= 1:
        return evaluate_chunk(cols, strategy_name, combos, config, registry)
    size = math.ceil(len(combos) / workers)
    chunks = [combos[k : k + size] for k in range(0, len(combos), size)]
    futures = [executor.submit(evaluate_chunk, cols, strategy_name, c, config, registry) for c in chunks]
    return [outcome for future in futures for outcome in future.result()]


def _report(
    on_trial: TrialFn | None,
    number: int,
    state: Literal["evaluated", "invalid"],
    params: dict[str, Any],
    values: list[float] | None,
    done: int,
    plan: SearchPlan,
    evaluated: list[tuple[dict[str, Any], dict[str, Any]]],
    fields: Sequence[str],
) -> None:
    if on_trial is None:
        return
    best = _best(evaluated, fields, plan)

    def finite(vs: Sequence[float]) -> list[float | None]:
        return [v if math.isfinite(v) else None for v in vs]

    on_trial(
        TrialReport(
            trial=number,
            state=state,
            params=params,
            values=None if values is None else finite(values),
            done=done,
            total=plan.n_trials,
            best_params=None if best is None else best[1],
            best_values=None if best is None else finite([float(best[2][f]) for f in fields]),
        )
    )


def _result(
    study: optuna.Study,
    plan: SearchPlan,
    fields: list[str],
    config: BacktestConfig,
    top_n: int,
    heatmap: tuple[str, str] | None,
) -> OptimizationResult:
    """Ranked by the first objective over every finished trial of the study; the Pareto front (Optuna's
    non-dominated trials) when there are several objectives."""
    finished = _finished(study)
    # Each parameter set once, however often the sampler asked for it.
    runs = list({_key(t.params): t for t in finished if t.user_attrs[_OUTCOME] == "evaluated"}.values())
    rows = [(dict(t.params), dict(t.user_attrs[_METRICS])) for t in runs]
    outcomes: list[Outcome] = [
        (t.user_attrs[_METRICS], np.asarray(t.user_attrs[_SKIPPED], dtype=np.int64)) for t in runs
    ]
    first = plan.objectives[0]
    maximize = first.direction == "maximize"
    pareto = None
    if len(fields) > 1:
        front = list({_key(t.params): t for t in study.best_trials if _OUTCOME in t.user_attrs}.values())
        pareto = [
            ParetoPoint(params=dict(t.params), values=list(t.values), metrics=dict(t.user_attrs[_METRICS]))
            for t in sorted(front, key=lambda t: t.values[0])
        ]
    return OptimizationResult(
        metric=fields[0],
        maximize=maximize,
        evaluated=len(rows),
        invalid=len({_key(t.params) for t in finished if t.user_attrs[_OUTCOME] == "invalid"}),
        top=rank(rows, fields[0], maximize, top_n),
        heatmap=heatmap_table(rows, *heatmap, fields[0], maximize) if heatmap and rows else None,
        warnings=search_warnings(outcomes, config),
        sampler=plan.sampler,
        trials=len(finished),
        objectives=[
            Objective(metric=f, direction=o.direction) for f, o in zip(fields, plan.objectives, strict=True)
        ],
        pareto_front=pareto,
    )


def run_planned(
    bars: Bars,
    strategy_name: str,
    space: Mapping[str, ParamRange],
    config: BacktestConfig,
    *,
    registry: StrategyRegistry,
    plan: SearchPlan,
    top_n: int = 10,
    heatmap: tuple[str, str] | None = None,
    fixed_params: Mapping[str, Any] | None = None,
    executor: Executor | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_trial: TrialFn | None = None,
) -> OptimizationResult:
    """The search `plan` asks for: an Optuna study (`run_search`) or a grid or random search."""
    if plan.sampler in MODEL_SAMPLERS:
        return run_search(
            bars,
            strategy_name,
            space,
            config,
            registry=registry,
            plan=plan,
            top_n=top_n,
            heatmap=heatmap,
            fixed_params=fixed_params,
            executor=executor,
            storage=storage,
            study_name=study_name,
            progress=progress,
            cancel=cancel,
            on_trial=on_trial,
        )
    objective = plan.objectives[0]
    return run_optimization(
        bars,
        strategy_name,
        space,
        config,
        registry=registry,
        metric=objective.metric,
        maximize=objective.direction == "maximize",
        method="random" if plan.sampler == "random" else "grid",
        samples=plan.samples,
        seed=plan.seed,
        top_n=top_n,
        heatmap=heatmap,
        fixed_params=fixed_params,
        constraints=parse_constraints(list(plan.constraints), set(space) | set(fixed_params or {})),
        executor=executor,
        progress=progress,
        cancel=cancel,
    )
