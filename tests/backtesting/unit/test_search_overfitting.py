"""The `overfitting` block of Optuna searches (tpe, nsga2) and of walk-forward windows searched by a sampler:
the same measures as a grid's, over the trials a study evaluated."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.backtesting.core import BacktestConfig, ParamRange, run_backtest, run_walk_forward
from services.backtesting.core.engine import BacktestCancelled
from services.backtesting.core.executors import ExecutorConfig, open_executor
from services.backtesting.core.optimize import Objective
from services.backtesting.core.overfitting import return_moments
from services.backtesting.core.overfitting_report import OverfittingSettings, period_marks
from services.backtesting.core.search import TrialReport, run_search
from services.backtesting.core.studies import SearchPlan, open_study
from shared.trading import StrategyRegistry
from tests.support.bars import random_walk_bars

REGISTRY = StrategyRegistry.with_builtins()
CONFIG = BacktestConfig(initial_balance=100_000)
BARS = random_walk_bars(3000)  # 126 days: enough for a PBO over 16 blocks of 4 days
SPACE = {"fast": ParamRange(start=2, stop=30), "slow": ParamRange(start=10, stop=80)}
SHARPE = Objective(metric="sharpe_ratio")


def _plan(sampler: str = "tpe", n_trials: int = 20, **fields: object) -> SearchPlan:
    return SearchPlan.model_validate(
        {"sampler": sampler, "objectives": [SHARPE], "n_trials": n_trials, "seed": 7, **fields}
    )


def _daily_sharpe(params: dict[str, object]) -> float:
    """The per-day Sharpe ratio of `params` run on their own (the selected trial's, in the report)."""
    equity = run_backtest(BARS, REGISTRY.build("sma_crossover", params), CONFIG).equity
    points = equity[period_marks(BARS["time"], 2_000)]
    return return_moments(points[1:] / points[:-1] - 1).sharpe


def test_tpe_search_deflates_its_best_trial_over_every_evaluated_trial() -> None:
    result = run_search(BARS, "sma_crossover", SPACE, CONFIG, registry=REGISTRY, plan=_plan())

    report = result.overfitting
    assert report is not None
    assert report.trials == result.evaluated >= 2
    assert report.best_sharpe == pytest.approx(_daily_sharpe(result.top[0].params))
    assert report.deflated_sharpe_ratio is not None and 0.0 <= report.deflated_sharpe_ratio <= 1.0
    assert report.pbo is not None and report.pbo_trials == result.evaluated


def test_nsga2_search_selects_the_best_trial_by_its_first_objective() -> None:
    plan = SearchPlan(
        sampler="nsga2",
        objectives=(Objective(metric="return_pct"), Objective(metric="max_drawdown_pct")),
        n_trials=24,
        seed=3,
    )

    result = run_search(BARS, "sma_crossover", SPACE, CONFIG, registry=REGISTRY, plan=plan)

    assert result.pareto_front and result.overfitting is not None
    assert result.overfitting.trials == result.evaluated
    assert result.overfitting.best_sharpe == pytest.approx(_daily_sharpe(result.top[0].params))


def test_search_pbo_keeps_the_returns_of_a_bounded_sample_of_trials() -> None:
    settings = OverfittingSettings(pbo_max_trials=4, pbo_splits=4)

    result = run_search(
        BARS, "sma_crossover", SPACE, CONFIG, registry=REGISTRY, plan=_plan(), overfitting=settings
    )

    assert result.overfitting is not None
    assert 2 <= result.overfitting.pbo_trials <= 4 < result.evaluated
    assert result.overfitting.pbo_splits == 4 and result.overfitting.pbo is not None


def test_resumed_search_deflates_over_all_its_trials_and_says_the_pbo_uses_this_runs(
    tmp_path: Path,
) -> None:
    storage = f"sqlite:///{tmp_path / 'studies.sqlite'}"
    plan = _plan(n_trials=24)
    seen: list[TrialReport] = []
    with pytest.raises(BacktestCancelled):
        run_search(
            BARS,
            "sma_crossover",
            SPACE,
            CONFIG,
            registry=REGISTRY,
            plan=plan,
            storage=storage,
            study_name="job-1",
            on_trial=seen.append,
            cancel=lambda: len(seen) >= 8,
        )
    restored = {
        str(t.params) for t in open_study(plan, storage=storage, study_name="job-1").trials if t.values
    }

    result = run_search(
        BARS,
        "sma_crossover",
        SPACE,
        CONFIG,
        registry=REGISTRY,
        plan=plan,
        storage=storage,
        study_name="job-1",
    )

    report = result.overfitting
    assert report is not None and restored
    assert report.trials == result.evaluated  # the restored trials' moments were kept in the study
    assert 2 <= report.pbo_trials <= result.evaluated - len(restored)
    (warning,) = [w for w in result.warnings if w.code == "pbo_partial"]
    assert f"{len(restored)} trials restored" in warning.message
    stored = open_study(plan, storage=storage, study_name="job-1").trials
    # Each trial keeps a few numbers, never its return series.
    assert all(len(str(t.user_attrs)) < 2_000 for t in stored)


def test_walk_forward_in_sample_searches_use_the_sampler_and_report_overfitting() -> None:
    result = run_walk_forward(
        BARS,
        "sma_crossover",
        SPACE,  # continuous ranges: only a model-based sampler can search them
        CONFIG,
        registry=REGISTRY,
        in_sample_bars=2000,
        out_of_sample_bars=500,
        plan=_plan(n_trials=10, constraints=("fast < slow",)),
    )

    assert len(result.windows) == 2
    for window in result.windows:
        report = window.in_sample_overfitting
        assert report is not None and 2 <= report.trials <= 10
        assert report.deflated_sharpe_ratio is not None
        assert np.isfinite(report.best_sharpe or np.nan)


def test_tpe_search_on_the_local_pool_runs_its_trials_there_with_the_overfitting_inputs() -> None:
    with open_executor(ExecutorConfig(workers=2), REGISTRY) as executor:
        result = run_search(
            BARS,
            "sma_crossover",
            SPACE,
            CONFIG,
            registry=REGISTRY,
            plan=_plan(n_trials=12),
            executor=executor,
        )

    assert result.trials == 12 and result.overfitting is not None
    assert result.overfitting.trials == result.evaluated == result.overfitting.pbo_trials
    best = result.top[0]
    alone = run_backtest(BARS, REGISTRY.build("sma_crossover", best.params), CONFIG)
    assert best.metrics == alone.metrics.model_dump()
    assert result.overfitting.best_sharpe == pytest.approx(_daily_sharpe(best.params))


def test_tpe_search_on_the_local_pool_shares_its_bars_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from services.backtesting.core.executors import local

    shared: list[int] = []
    real_share = local.share_bars

    def counting_share(cols: Any) -> Any:
        shared.append(len(cols["close"]))
        return real_share(cols)

    monkeypatch.setattr(local, "share_bars", counting_share)
    with open_executor(ExecutorConfig(workers=2), REGISTRY) as executor:
        result = run_search(
            BARS,
            "sma_crossover",
            SPACE,
            CONFIG,
            registry=REGISTRY,
            plan=_plan(n_trials=12),
            executor=executor,
        )

    assert result.trials == 12
    assert shared == [len(BARS["close"])]  # not once per batch of trials asked (three here)
