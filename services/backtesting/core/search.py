"""Model-based parameter search with Optuna: TPE, CMA-ES, or NSGA-II for several objectives at once.

Trials are asked from the study in batches of two per worker, evaluated through the same executor seam as a
grid (in process, the local pool or Ray: core/executors/), and told back. A trial that breaks a constraint or that the
strategy's parameter model refuses is pruned without a backtest. Every finished trial stores its outcome as
user attributes, so a study kept in a database (Optuna's RDB storage) can be reopened under the same name
after a restart and carries on from its finished trials; trials that were in flight are asked again.

The result's `overfitting` block is a grid's: the deflated Sharpe ratio of the best trial by the first
objective over every evaluated parameter set, and the PBO over the returns of an evenly spread sample of
the budget's trial positions. Trials restored from a stored study have their moments but not their returns,
so after a resume the PBO uses this run's sample, and a `pbo_partial` warning says so.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import optuna
from optuna.trial import FrozenTrial
from pydantic import BaseModel, ConfigDict

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.constraints import parse_constraints
from services.backtesting.core.engine import CancelFn, ProgressFn, bar_columns, check_cancel
from services.backtesting.core.executors import DEFAULT_CACHE_BYTES, InProcessExecutor, TrialExecutor
from services.backtesting.core.optimize import (
    Objective,
    OptimizationResult,
    ParamRange,
    ParetoPoint,
    heatmap_table,
    metric_field,
    rank,
    rank_outcomes,
    retry_warnings,
    run_optimization,
    search_warnings,
)
from services.backtesting.core.overfitting_report import (
    OverfittingSettings,
    overfitting_report,
    pbo_sample,
    period_marks,
)
from services.backtesting.core.run_warnings import RunWarning
from services.backtesting.core.studies import (
    METRICS,
    MODEL_SAMPLERS,
    OUTCOME,
    SearchPlan,
    distributions,
    finished_trials,
    integer_params,
    open_study,
    params_key,
    record_outcome,
    stored_outcome,
    tell_outcome,
)
from services.backtesting.core.tick_engine import BarTicks
from services.backtesting.core.trials import Outcome, search_columns
from shared.trading.registry import StrategyRegistry
from shared.trading.strategy import Bars


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
    executor: TrialExecutor | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_trial: TrialFn | None = None,
    overfitting: OverfittingSettings | None = None,
    ticks: BarTicks | None = None,
) -> OptimizationResult:
    """Run `plan.n_trials` trials of `plan.sampler` (counting those a stored study already finished);
    measure overfitting as `overfitting` (default: OverfittingSettings()) says; in a tick model each trial
    fills on `ticks`."""
    overfitting = overfitting or OverfittingSettings()
    fields = [metric_field(o.metric) for o in plan.objectives]
    constraints = parse_constraints(list(plan.constraints), set(space) | set(fixed_params or {}))
    dists = distributions(space, integer_params(registry, strategy_name))
    study = open_study(plan, storage=storage, study_name=study_name)
    cols = search_columns(bar_columns(bars), ticks)
    marks = period_marks(cols["time"], overfitting.max_periods)
    # Which positions of the budget keep their returns for the PBO (a position's trial may be pruned, or
    # ask again for a parameter set already run: the sample is then a little smaller, never larger).
    keep = pbo_sample(plan.n_trials, overfitting.pbo_max_trials)
    executor = executor or InProcessExecutor(registry, DEFAULT_CACHE_BYTES)
    retried = 0
    report = progress or (lambda _fraction: None)
    done = len(finished_trials(study))
    evaluated = [
        (t.params, t.user_attrs[METRICS])
        for t in finished_trials(study)
        if t.user_attrs[OUTCOME] == "evaluated"
    ]
    seen: dict[str, Outcome | None] = {
        params_key({**(fixed_params or {}), **t.params}): stored_outcome(t) for t in finished_trials(study)
    }
    restored = set(seen)
    while done < plan.n_trials:
        check_cancel(cancel)
        batch = [study.ask(dists) for _ in range(min(2 * executor.workers, plan.n_trials - done))]
        runnable = []
        keeps: dict[str, bool] = {}  # a parameter set's PBO sample flag: its first trial's position's
        for position, trial in enumerate(batch, start=done):
            params = {**(fixed_params or {}), **trial.params}
            if all(rule.holds(params) for rule in constraints):
                runnable.append((trial, params))
                keeps.setdefault(params_key(params), keep[position])
            else:
                record_outcome(trial, None, "constraint")
                tell_outcome(study, trial.number, None, fields)
                done += 1
                _report(on_trial, trial.number, "invalid", trial.params, None, done, plan, evaluated, fields)
        # A sampler may ask for a parameter set again (small discrete spaces): its outcome is reused.
        fresh = list({params_key(p): p for _, p in runnable if params_key(p) not in seen}.values())
        fresh_keep = [keeps[params_key(p)] for p in fresh]
        outcomes, lost = _evaluate(executor, cols, strategy_name, fresh, config, marks, fresh_keep)
        retried += lost
        seen.update(zip(map(params_key, fresh), outcomes, strict=True))
        for trial, params in runnable:
            outcome = seen[params_key(params)]
            done += 1
            record_outcome(trial, outcome, "params")
            tell_outcome(study, trial.number, outcome, fields)
            if outcome is None:
                _report(on_trial, trial.number, "invalid", trial.params, None, done, plan, evaluated, fields)
                continue
            evaluated.append((trial.params, outcome[0]))
            raw = [float(outcome[0][f]) for f in fields]
            _report(on_trial, trial.number, "evaluated", trial.params, raw, done, plan, evaluated, fields)
        report(done / plan.n_trials)
    runs = _runs(study)
    keys = {key: params_key({**(fixed_params or {}), **t.params}) for key, t in runs.items()}
    by_params = {key: seen[full] for key, full in keys.items()}
    old = sum(1 for full in keys.values() if full in restored)
    result = _result(study, plan, fields, config, top_n, heatmap, by_params, old, overfitting)
    result.warnings += retry_warnings(retried)
    return result


def _evaluate(
    executor: TrialExecutor,
    cols: Mapping[str, np.ndarray],
    strategy_name: str,
    combos: list[dict[str, Any]],
    config: BacktestConfig,
    marks: np.ndarray,
    keep_returns: list[bool],
) -> tuple[list[Outcome | None], int]:
    """`combos`' outcomes in order, evaluated on `executor` in one batch per worker, and how many batches
    were sent again after a lost worker."""
    if not combos:
        return [], 0
    size = math.ceil(len(combos) / executor.workers)
    starts = range(0, len(combos), size)
    batches = [combos[k : k + size] for k in starts]
    finished: dict[int, list[Outcome | None]] = {}
    retried = 0
    stream = executor.evaluate(
        cols, strategy_name, batches, config, marks, [keep_returns[k : k + size] for k in starts]
    )
    try:
        for done in stream:
            finished[done.index] = done.outcomes
            retried += done.retries
    finally:
        stream.close()
    return [outcome for index in range(len(batches)) for outcome in finished[index]], retried


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


def _runs(study: optuna.Study) -> dict[str, FrozenTrial]:
    """The evaluated trials by their parameters: each parameter set once, however often it was asked for."""
    return {params_key(t.params): t for t in finished_trials(study) if t.user_attrs[OUTCOME] == "evaluated"}


def _result(
    study: optuna.Study,
    plan: SearchPlan,
    fields: list[str],
    config: BacktestConfig,
    top_n: int,
    heatmap: tuple[str, str] | None,
    outcomes: dict[str, Outcome | None],
    restored: int,
    overfitting: OverfittingSettings,
) -> OptimizationResult:
    """Ranked by the first objective over every finished trial of the study (`outcomes`: each evaluated
    parameter set's, by `_runs`' keys; `restored` of them from a stored study, without returns); the Pareto
    front (Optuna's non-dominated trials) when there are several objectives; the overfitting measures of
    the top-ranked trial among all of them."""
    finished = finished_trials(study)
    first = plan.objectives[0]
    maximize = first.direction == "maximize"
    ranked = rank_outcomes(
        ((dict(t.params), outcomes[key]) for key, t in _runs(study).items()), fields[0], maximize
    )
    rows = [(params, outcome[0]) for params, outcome in ranked]
    measured, warnings = (
        overfitting_report([outcome[2] for _, outcome in ranked], 0, overfitting) if ranked else (None, [])
    )
    if restored:
        warnings.append(
            RunWarning(
                code="pbo_partial",
                message=f"{restored} trials restored from the stored study kept their moments but not their "
                f"returns: the deflated Sharpe ratio counts them, the PBO uses this run's trials only",
                count=restored,
            )
        )
    pareto = None
    if len(fields) > 1:
        front = list({params_key(t.params): t for t in study.best_trials if OUTCOME in t.user_attrs}.values())
        pareto = [
            ParetoPoint(params=dict(t.params), values=list(t.values), metrics=dict(t.user_attrs[METRICS]))
            for t in sorted(front, key=lambda t: t.values[0])
        ]
    return OptimizationResult(
        metric=fields[0],
        maximize=maximize,
        evaluated=len(rows),
        invalid=len({params_key(t.params) for t in finished if t.user_attrs[OUTCOME] == "invalid"}),
        top=rank(rows, fields[0], maximize, top_n),
        heatmap=heatmap_table(rows, *heatmap, fields[0], maximize) if heatmap and rows else None,
        overfitting=measured,
        warnings=search_warnings([o for _, o in ranked], config) + warnings,
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
    executor: TrialExecutor | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
    on_trial: TrialFn | None = None,
    overfitting: OverfittingSettings | None = None,
    ticks: BarTicks | None = None,
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
            overfitting=overfitting,
            ticks=ticks,
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
        overfitting=overfitting,
        ticks=ticks,
    )
