"""Model-based search: constraint parsing, the space Optuna samples, sampler wiring and a stored study that
carries on where it stopped."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from services.backtesting.core import BacktestConfig, ParamRange
from services.backtesting.core.constraints import parse_constraint
from services.backtesting.core.engine import BacktestCancelled
from services.backtesting.core.optimize import Objective
from services.backtesting.core.search import TrialReport, run_search
from services.backtesting.core.studies import SearchPlan, distributions, integer_params, open_study
from shared.errors import InvalidInputError
from shared.trading import StrategyRegistry
from tests.support.bars import random_walk_bars

REGISTRY = StrategyRegistry.with_builtins()
BARS = random_walk_bars(1500)
SPACE = {"fast": ParamRange(start=2, stop=30), "slow": ParamRange(start=10, stop=80)}
SHARPE = Objective(metric="sharpe_ratio")


def _plan(sampler: str = "tpe", n_trials: int = 20, **fields: object) -> SearchPlan:
    return SearchPlan.model_validate(
        {"sampler": sampler, "objectives": [SHARPE], "n_trials": n_trials, "seed": 7, **fields}
    )


def test_parse_constraint_compares_parameters_and_numbers() -> None:
    rule = parse_constraint("fast < slow", {"fast", "slow"})
    limit = parse_constraint("slow>=2.5e1", {"fast", "slow"})

    assert rule.holds({"fast": 5, "slow": 20}) and not rule.holds({"fast": 20, "slow": 20})
    assert limit.holds({"slow": 25}) and not limit.holds({"slow": 24})
    assert not rule.holds({"fast": 5})  # a missing parameter never satisfies a rule


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('x') < 1",
        "fast < slow or 1",
        "fast <",
        "fast << slow",
        "1 < 2",
        "fast < nope",
    ],
)
def test_parse_constraint_refuses_anything_but_one_comparison_of_known_names(text: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_constraint(text, {"fast", "slow"}, field="constraints.0")

    assert caught.value.code == "invalid_constraint"
    assert caught.value.details["field"] == "constraints.0"


def test_distributions_follow_the_strategy_field_types_log_and_categories() -> None:
    space = {
        "fast": ParamRange(start=2.5, stop=30.2),
        "slow": ParamRange(start=10, stop=80, step=5),
        "x": ParamRange(start=0.001, stop=1.0, log=True),
        "y": ParamRange(values=["a", "b"]),
    }

    dists = distributions(space, integer_params(REGISTRY, "sma_crossover"))

    assert dists["fast"] == IntDistribution(3, 30)
    assert dists["slow"] == IntDistribution(10, 80, step=5)
    assert dists["x"] == FloatDistribution(0.001, 1.0, log=True)
    assert dists["y"] == CategoricalDistribution(["a", "b"])


def test_param_range_log_needs_a_positive_start_and_no_step() -> None:
    with pytest.raises(ValueError, match="log"):
        ParamRange(start=0, stop=1, log=True)
    with pytest.raises(ValueError, match="log"):
        ParamRange(start=1, stop=10, step=1, log=True)


def test_run_search_tpe_with_a_seed_repeats_and_never_runs_a_constraint_breaker() -> None:
    plan = _plan(constraints=("fast < slow",))
    first: list[TrialReport] = []

    result = run_search(
        BARS, "sma_crossover", SPACE, BacktestConfig(), registry=REGISTRY, plan=plan, on_trial=first.append
    )
    again = run_search(BARS, "sma_crossover", SPACE, BacktestConfig(), registry=REGISTRY, plan=plan)

    assert result.model_dump() == again.model_dump()
    assert result.sampler == "tpe" and result.trials == 20
    assert [r.done for r in first] == list(range(1, 21))
    assert all(r.params["fast"] < r.params["slow"] for r in first if r.state == "evaluated")
    assert all(r.values is None for r in first if r.state == "invalid")
    best = max(r.values[0] for r in first if r.values and r.values[0] is not None)
    assert first[-1].best_values == [best] and result.top[0].score == best


def test_run_search_nsga2_returns_a_non_dominated_front() -> None:
    plan = SearchPlan(
        sampler="nsga2",
        objectives=(SHARPE, Objective(metric="max_drawdown_pct", direction="maximize")),
        n_trials=40,
        seed=3,
    )

    result = run_search(
        BARS, "sma_crossover", SPACE, BacktestConfig(), registry=REGISTRY, plan=plan, top_n=100
    )

    front = result.pareto_front
    assert front and len(front) >= 1
    points = np.array([p.values for p in front])
    for p in points:  # no point of the front is dominated by another point of the front
        assert not any((q >= p).all() and (q > p).any() for q in points)
    evaluated = np.array([[r.metrics["sharpe_ratio"], r.metrics["max_drawdown_pct"]] for r in result.top])
    evaluated = evaluated[np.isfinite(evaluated).all(axis=1)]
    for p in points:  # nor by any evaluated trial
        assert not any((q >= p).all() and (q > p).any() for q in evaluated)


def test_run_search_cmaes_needs_the_cmaes_package() -> None:
    pytest.importorskip("cmaes")
    result = run_search(
        BARS, "sma_crossover", SPACE, BacktestConfig(), registry=REGISTRY, plan=_plan("cmaes", 12)
    )
    assert result.trials == 12


def test_run_search_stored_study_carries_on_from_its_finished_trials(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.sqlite'}"
    plan = _plan(n_trials=16)
    seen: list[TrialReport] = []

    with pytest.raises(BacktestCancelled):
        run_search(
            BARS,
            "sma_crossover",
            SPACE,
            BacktestConfig(),
            registry=REGISTRY,
            plan=plan,
            storage=storage,
            study_name="job-1",
            on_trial=seen.append,
            cancel=lambda: len(seen) >= 6,
        )
    before = [t.params for t in open_study(plan, storage=storage, study_name="job-1").trials]
    result = run_search(
        BARS,
        "sma_crossover",
        SPACE,
        BacktestConfig(),
        registry=REGISTRY,
        plan=plan,
        storage=storage,
        study_name="job-1",
        on_trial=seen.append,
    )

    trials = open_study(plan, storage=storage, study_name="job-1").trials
    assert len(before) == 6
    assert [t.params for t in trials[:6]] == before  # the finished trials were kept, not run again
    assert [r.done for r in seen[6:]] == list(range(7, 17))
    assert result.trials == 16


def test_run_search_asked_twice_for_a_parameter_set_ranks_it_once() -> None:
    space = {"fast": ParamRange(values=[5, 10]), "slow": ParamRange(values=[20])}

    result = run_search(
        BARS, "sma_crossover", space, BacktestConfig(), registry=REGISTRY, plan=_plan(n_trials=8)
    )

    assert result.trials == 8 and result.evaluated == 2
    assert sorted(r.params["fast"] for r in result.top) == [5, 10]


def test_open_study_finishes_a_trial_recorded_but_not_told_and_asks_again_for_one_cut_short(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.sqlite'}"
    plan = _plan(n_trials=4)
    study = open_study(plan, storage=storage, study_name="job-2")
    recorded, cut_short = study.ask(), study.ask()
    recorded.suggest_int("fast", 2, 30)
    cut_short.suggest_int("fast", 2, 30)
    recorded.set_user_attr("metrics", {"sharpe_ratio": 1.5})
    recorded.set_user_attr("skipped", [0, 0])
    recorded.set_user_attr("moments", [0.1, 0.0, 3.0, 60])
    recorded.set_user_attr("outcome", "evaluated")  # then the process died before tell()

    reopened = open_study(plan, storage=storage, study_name="job-2")

    trials = reopened.trials
    assert trials[0].state.name == "COMPLETE" and trials[0].values == [1.5]
    assert trials[1].state.name == "FAIL"
    assert trials[2].state.name == "WAITING" and trials[2].system_attrs["fixed_params"] == cut_short.params
