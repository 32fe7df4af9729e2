"""The Optuna side of a model-based search: the plan (sampler, objectives, constraints, budget), the
distributions Optuna samples, the samplers, and the study, created or reopened from its storage, whose
trials keep their outcome as user attributes (so a reopened study knows what it already ran): metrics,
skipped-entry counts and the moments of the daily returns (a few numbers, so the deflated Sharpe ratio of a
resumed search counts every trial); never the return series, which would make each trial's row kilobytes."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
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

from services.backtesting.core.optimize import Objective, ParamRange, metric_field
from services.backtesting.core.overfitting import ReturnMoments
from services.backtesting.core.overfitting_report import TrialReturns
from services.backtesting.core.trials import Outcome
from shared.errors import InvalidInputError
from shared.trading.registry import StrategyRegistry

SamplerName = Literal["grid", "random", "tpe", "cmaes", "nsga2"]
MODEL_SAMPLERS: frozenset[str] = frozenset({"tpe", "cmaes", "nsga2"})
# Samplers that optimise several objectives at once (and so return a Pareto front).
MULTI_OBJECTIVE_SAMPLERS: frozenset[str] = frozenset({"tpe", "nsga2"})

optuna.logging.set_verbosity(optuna.logging.WARNING)  # one INFO line per trial would flood the job logs

OUTCOME = "outcome"  # user attribute: "evaluated" or "invalid"; absent on a trial cut short by a restart
METRICS, SKIPPED, MOMENTS, REASON = "metrics", "skipped", "moments", "reason"


class SearchPlan(BaseModel):
    """How a search picks parameter sets: the sampler, its objectives, constraints and budget."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sampler: SamplerName = "grid"
    objectives: tuple[Objective, ...] = Field(min_length=1)
    constraints: tuple[str, ...] = ()
    n_trials: int = Field(default=100, ge=1, description="model-based samplers: trials run")
    samples: int = Field(default=100, ge=1, description="random search: combinations drawn")
    seed: int = 0


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
        if OUTCOME in trial.user_attrs:  # stopped between recording its outcome and telling it
            tell_outcome(study, trial.number, stored_outcome(trial), fields)
            continue
        # Cut short by a restart before its outcome: fail it and ask for its parameters again.
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        study.enqueue_trial(trial.params)
    return study


def record_outcome(trial: optuna.Trial, outcome: Outcome | None, refused_by: str) -> None:
    """Store a trial's outcome in the study (the outcome mark last: with it, the rest is there)."""
    if outcome is None:
        trial.set_user_attr(REASON, refused_by)
        trial.set_user_attr(OUTCOME, "invalid")
        return
    trial.set_user_attr(METRICS, outcome[0])
    trial.set_user_attr(SKIPPED, [int(n) for n in outcome[1]])
    m = outcome[2].moments
    trial.set_user_attr(MOMENTS, [m.sharpe, m.skew, m.kurtosis, m.observations])
    trial.set_user_attr(OUTCOME, "evaluated")


def tell_outcome(study: optuna.Study, trial: int, outcome: Outcome | None, fields: Sequence[str]) -> None:
    """Finish trial number `trial` with its outcome: pruned when refused, failed when a value is undefined
    (no trades: no Sharpe), so the sampler learns nothing from it."""
    if outcome is None:
        study.tell(trial, state=TrialState.PRUNED)
        return
    values = objective_values(outcome[0], fields)
    study.tell(trial, values, state=TrialState.COMPLETE if values else TrialState.FAIL)


def params_key(params: Mapping[str, Any]) -> str:
    return json.dumps(params, sort_keys=True, default=str)


def stored_outcome(trial: FrozenTrial) -> Outcome | None:
    """A finished trial's outcome as `evaluate_chunk` gave it, less its returns (None: the parameter model
    refused it)."""
    if trial.user_attrs[OUTCOME] != "evaluated":
        return None
    sharpe, skew, kurtosis, observations = trial.user_attrs[MOMENTS]
    return (
        trial.user_attrs[METRICS],
        np.asarray(trial.user_attrs[SKIPPED], dtype=np.int64),
        TrialReturns(ReturnMoments(sharpe, skew, kurtosis, int(observations)), None),
    )


def finished_trials(study: optuna.Study) -> list[FrozenTrial]:
    return [t for t in study.get_trials(deepcopy=False) if OUTCOME in t.user_attrs]


def objective_values(metrics: Mapping[str, Any], fields: Sequence[str]) -> list[float] | None:
    values = [float(metrics[f]) for f in fields]
    return values if all(math.isfinite(v) for v in values) else None
