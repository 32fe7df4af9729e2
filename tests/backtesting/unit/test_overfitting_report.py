"""The `overfitting` block of optimisation and walk-forward results (core/overfitting_report.py)."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from services.backtesting.core import (
    BacktestConfig,
    ParamRange,
    run_backtest,
    run_optimization,
    run_walk_forward,
)
from services.backtesting.core.executors import ExecutorConfig, open_executor
from services.backtesting.core.overfitting import deflated_sharpe, expected_max_sharpe, return_moments
from services.backtesting.core.overfitting_report import (
    OverfittingSettings,
    pbo_sample,
    period_marks,
    trial_returns,
)
from services.backtesting.settings import BacktestingSection
from shared.trading import StrategyRegistry
from tests.support.bars import START_S, random_walk_bars

REGISTRY = StrategyRegistry.with_builtins()
CONFIG = BacktestConfig(initial_balance=100_000)
SPACE = {"fast": ParamRange(start=5, stop=25, step=5), "slow": ParamRange(values=[10, 20, 40])}
DAY = 86_400


def _daily_returns(equity: np.ndarray, time: np.ndarray) -> np.ndarray:
    """A day's return, written out: last equity of each UTC day over the previous day's (the first bar's)."""
    days = time // DAY
    closes = [equity[np.flatnonzero(days == d)[-1]] for d in np.unique(days)]
    points = np.r_[equity[0], closes]
    return points[1:] / points[:-1] - 1


def test_period_marks_are_the_first_bar_and_each_days_last() -> None:
    time = START_S - START_S % DAY + 3600 * np.arange(72)  # three whole days of hourly bars

    assert period_marks(time, 100).tolist() == [0, 23, 47, 71]


def test_period_marks_of_daily_bars_are_every_bar_and_thin_to_the_limit() -> None:
    time = START_S + DAY * np.arange(1000)

    assert len(period_marks(time, 2000)) == 1000
    thinned = period_marks(time, 100)
    assert len(thinned) - 1 <= 100
    assert (thinned[0], thinned[-1]) == (0, 999)


def test_trial_returns_compound_to_the_run_and_survive_a_ruined_account() -> None:
    equity = np.array([100.0, 110.0, 0.0, 0.0, 0.0])

    trial = trial_returns(equity, np.arange(5), keep=True)

    assert trial.returns is not None
    assert trial.returns.tolist() == pytest.approx([0.1, -1.0, 0.0, 0.0])  # after ruin 0/0 is 0, not NaN
    assert trial_returns(equity, np.arange(5), keep=False).returns is None


def test_pbo_sample_keeps_evenly_spaced_trials_up_to_the_limit() -> None:
    assert pbo_sample(5, 10) == [True] * 5
    keep = pbo_sample(1000, 10)
    assert sum(keep) == 10
    assert keep[0] and keep[-1]


def test_optimization_reports_the_deflated_sharpe_of_its_best_combination() -> None:
    bars = random_walk_bars(3000)

    result = run_optimization(bars, "sma_crossover", SPACE, CONFIG, registry=REGISTRY, metric="Return [%]")

    report = result.overfitting
    assert report is not None
    assert report.trials == result.evaluated == 9
    # The best combination run on its own: its daily returns give the Sharpe ratio, skew and kurtosis.
    best = run_backtest(bars, REGISTRY.build("sma_crossover", result.top[0].params), CONFIG)
    moments = return_moments(_daily_returns(best.equity, bars["time"]))
    assert report.observations == moments.observations == 126
    assert report.best_sharpe == pytest.approx(moments.sharpe)
    assert report.expected_max_sharpe is not None and report.expected_max_sharpe > 0
    assert report.deflated_sharpe_ratio == pytest.approx(
        deflated_sharpe(
            moments.sharpe,
            observations=moments.observations,
            trials=9,
            sharpe_variance=(report.expected_max_sharpe / expected_max_sharpe(9, 1.0)) ** 2,
            skew=moments.skew,
            kurtosis=moments.kurtosis,
        )
    )
    assert 0.0 <= report.deflated_sharpe_ratio <= 1.0
    assert report.pbo is not None and 0.0 <= report.pbo <= 1.0
    assert (report.pbo_trials, report.pbo_splits) == (9, 16)
    assert not [w for w in result.warnings if w.code.endswith("_unavailable")]


def test_optimization_pbo_uses_at_most_the_configured_trials_and_splits() -> None:
    settings = OverfittingSettings(pbo_max_trials=4, pbo_splits=4)

    result = run_optimization(
        random_walk_bars(3000), "sma_crossover", SPACE, CONFIG, registry=REGISTRY, overfitting=settings
    )

    assert result.overfitting is not None
    assert result.overfitting.pbo_splits == 4
    assert 2 <= result.overfitting.pbo_trials <= 4  # sampled over all 15 combinations, 6 of them refused
    assert result.overfitting.pbo is not None


def test_optimization_on_too_short_a_history_says_why_pbo_is_null() -> None:
    result = run_optimization(random_walk_bars(300), "sma_crossover", SPACE, CONFIG, registry=REGISTRY)

    assert result.overfitting is not None
    assert result.overfitting.pbo is None
    assert result.overfitting.deflated_sharpe_ratio is not None  # 13 days still give a DSR
    (warning,) = [w for w in result.warnings if w.code == "pbo_unavailable"]
    assert "14 daily returns are fewer than 16 blocks x 4" in warning.message


def test_optimization_of_one_combination_has_no_pbo_and_no_selection() -> None:
    space = {"fast": ParamRange(values=[5]), "slow": ParamRange(values=[20])}

    result = run_optimization(random_walk_bars(3000), "sma_crossover", space, CONFIG, registry=REGISTRY)

    assert result.overfitting is not None
    assert result.overfitting.trials == 1
    assert result.overfitting.expected_max_sharpe == 0.0
    assert result.overfitting.pbo is None
    assert [w.code for w in result.warnings] == ["pbo_unavailable"]


def test_optimization_in_which_nothing_trades_has_sharpe_zero_and_no_selection() -> None:
    flat = {name: np.full(3000, 100.0) for name in ("open", "high", "low", "close")}
    flat["time"] = random_walk_bars(3000)["time"]  # a flat price: no moving average ever crosses another

    result = run_optimization(flat, "sma_crossover", SPACE, CONFIG, registry=REGISTRY)

    report = result.overfitting
    assert report is not None
    assert (report.best_sharpe, report.expected_max_sharpe) == (0.0, 0.0)  # equal Sharpes: nothing chosen
    assert report.deflated_sharpe_ratio == pytest.approx(0.5)
    # All trials tie: each split's pick ranks at the median (logit 0), which counts as overfit: the
    # selection was no better than the median out of sample.
    assert report.pbo == 1.0


def test_optimization_process_pool_reports_the_serial_measures() -> None:
    serial = run_optimization(random_walk_bars(3000), "sma_crossover", SPACE, CONFIG, registry=REGISTRY)
    with open_executor(ExecutorConfig(workers=2), REGISTRY) as executor:
        parallel = run_optimization(
            random_walk_bars(3000), "sma_crossover", SPACE, CONFIG, registry=REGISTRY, executor=executor
        )
    assert parallel.overfitting == serial.overfitting


def test_walk_forward_windows_carry_their_in_sample_measures() -> None:
    result = run_walk_forward(
        random_walk_bars(3000),
        "sma_crossover",
        SPACE,
        CONFIG,
        registry=REGISTRY,
        in_sample_bars=2000,
        out_of_sample_bars=500,
    )

    for window in result.windows:
        report = window.in_sample_overfitting
        assert report is not None and report.trials == 9
        assert report.pbo is not None and 0.0 <= report.pbo <= 1.0
    serialised = result.to_dict()["windows"][0]["in_sample_overfitting"]
    assert set(serialised) >= {"deflated_sharpe_ratio", "pbo", "expected_max_sharpe"}


def test_walk_forward_window_says_why_its_in_sample_pbo_is_null() -> None:
    result = run_walk_forward(
        random_walk_bars(600),
        "sma_crossover",
        SPACE,
        CONFIG,
        registry=REGISTRY,
        in_sample_bars=300,
        out_of_sample_bars=300,
    )

    (window,) = result.windows
    assert window.in_sample_overfitting is not None and window.in_sample_overfitting.pbo is None
    assert any(w.message.startswith("in-sample: no probability") for w in window.warnings)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"pbo_splits": 15}, "pbo_splits"),
        ({"pbo_splits": 22}, "pbo_splits"),
        ({"max_periods": 3}, "max_periods"),
    ],
)
def test_settings_refuse_an_unusable_overfitting_section(values: dict[str, int], field: str) -> None:
    with pytest.raises(ValidationError, match=field):
        BacktestingSection(overfitting=values)  # type: ignore[arg-type]
