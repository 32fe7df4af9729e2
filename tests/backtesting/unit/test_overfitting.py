"""The deflated Sharpe ratio and the probability of backtest overfitting (core/overfitting.py)."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest

from services.backtesting.core.overfitting import (
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
    return_moments,
)

# The numerical example of Bailey & López de Prado (2014), "The Deflated Sharpe Ratio": five years of daily
# returns (T = 1250, so 250 observations a year), the best of N = 100 independent trials has an annualised
# Sharpe ratio of 2.5, the trials' annualised Sharpe ratios have variance 1/2, and the best one's returns
# have skewness -3 and kurtosis 10. The paper's answer is DSR = 0.9004; the benchmark (expected maximum)
# of 0.1132 per day (1.7894 annualised) is derived here from its formula with those inputs.
PER_YEAR = 250
T, N, SR_ANNUAL, VAR_ANNUAL, SKEW, KURT = 1250, 100, 2.5, 0.5, -3.0, 10.0


def test_deflated_sharpe_paper_example_gives_0_9004() -> None:
    sharpe, variance = SR_ANNUAL / math.sqrt(PER_YEAR), VAR_ANNUAL / PER_YEAR  # per period, as required

    benchmark = expected_max_sharpe(N, variance)
    dsr = deflated_sharpe(
        sharpe, observations=T, trials=N, sharpe_variance=variance, skew=SKEW, kurtosis=KURT
    )

    assert benchmark == pytest.approx(0.1132, abs=5e-5)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_expected_max_sharpe_converts_between_per_period_and_annualised_units() -> None:
    per_period = expected_max_sharpe(N, VAR_ANNUAL / PER_YEAR)

    # Sharpe ratios scale with sqrt(periods per year) and their variance with periods per year, so the
    # benchmark does too: the annualised figure is the per-period one times sqrt(250).
    assert expected_max_sharpe(N, VAR_ANNUAL) == pytest.approx(per_period * math.sqrt(PER_YEAR))
    assert per_period * math.sqrt(PER_YEAR) == pytest.approx(1.7894, abs=5e-5)
    # Annualised inputs with a daily count of observations overstate the evidence: the DSR saturates.
    wrong = deflated_sharpe(
        SR_ANNUAL, observations=T, trials=N, sharpe_variance=VAR_ANNUAL, skew=SKEW, kurtosis=KURT
    )
    assert wrong > 0.9999


def test_probabilistic_sharpe_of_normal_returns_is_the_textbook_z_score() -> None:
    sharpe, benchmark, n = 0.1, 0.02, 500

    psr = probabilistic_sharpe(sharpe, benchmark, n, 0.0, 3.0)

    z = (sharpe - benchmark) * math.sqrt(n - 1) / math.sqrt(1 + sharpe**2 / 2)
    assert psr == pytest.approx(NormalDist().cdf(z))


def test_deflated_sharpe_of_one_trial_is_the_psr_against_zero() -> None:
    assert expected_max_sharpe(1, 0.3) == 0.0
    dsr = deflated_sharpe(0.05, observations=400, trials=1, sharpe_variance=0.3)
    assert dsr == pytest.approx(probabilistic_sharpe(0.05, 0.0, 400, 0.0, 3.0))


def test_deflated_sharpe_with_equal_trial_sharpes_has_a_zero_benchmark() -> None:
    assert expected_max_sharpe(50, 0.0) == 0.0
    assert deflated_sharpe(0.0, observations=400, trials=50, sharpe_variance=0.0) == pytest.approx(0.5)


def test_deflated_sharpe_falls_as_trials_grow() -> None:
    values = [deflated_sharpe(0.08, observations=750, trials=n, sharpe_variance=1e-3) for n in (2, 10, 1000)]
    assert values == sorted(values, reverse=True)
    assert all(0.0 <= v <= 1.0 for v in values)


@pytest.mark.parametrize(
    ("sharpe", "observations", "variance", "skew", "kurtosis"),
    [
        (math.nan, 500, 1e-3, 0.0, 3.0),  # the selected trial has no Sharpe ratio
        (0.1, 500, math.nan, 0.0, 3.0),  # no variance across the trials
        (0.1, 1, 1e-3, 0.0, 3.0),  # one observation
        (0.5, 500, 1e-3, 10.0, 3.0),  # moments give the Sharpe estimate a negative variance
    ],
)
def test_deflated_sharpe_undefined_inputs_give_nan(
    sharpe: float, observations: int, variance: float, skew: float, kurtosis: float
) -> None:
    dsr = deflated_sharpe(
        sharpe, observations=observations, trials=10, sharpe_variance=variance, skew=skew, kurtosis=kurtosis
    )
    assert math.isnan(dsr)


def test_return_moments_match_their_definitions() -> None:
    returns = np.array([0.01, -0.02, 0.03, 0.0, 0.05, -0.01])

    moments = return_moments(returns)

    d = returns - returns.mean()
    assert moments.sharpe == pytest.approx(returns.mean() / returns.std(ddof=1))
    assert moments.skew == pytest.approx(np.mean(d**3) / np.mean(d**2) ** 1.5)
    assert moments.kurtosis == pytest.approx(np.mean(d**4) / np.mean(d**2) ** 2)
    assert moments.observations == 6


def test_return_moments_of_a_flat_series_are_those_of_no_risk() -> None:
    moments = return_moments(np.zeros(30))
    assert (moments.sharpe, moments.skew, moments.kurtosis, moments.observations) == (0.0, 0.0, 3.0, 30)
    assert return_moments(np.full(30, 0.001)).sharpe == 0.0  # constant: no variation either


def test_return_moments_of_one_observation_are_undefined() -> None:
    moments = return_moments(np.array([0.01]))
    assert math.isnan(moments.sharpe) and moments.observations == 1


def _naive_pbo(returns: np.ndarray, splits: int) -> float:
    """CSCV written out one split at a time, as the paper describes it."""
    rows = len(returns) // splits * splits
    blocks = np.split(returns[len(returns) - rows :], splits)
    below = 0
    combos = list(itertools.combinations(range(splits), splits // 2))
    for chosen in combos:
        in_sample = np.vstack([blocks[k] for k in chosen])
        out_sample = np.vstack([blocks[k] for k in range(splits) if k not in chosen])
        is_sr = in_sample.mean(0) / in_sample.std(0, ddof=1)
        oos_sr = out_sample.mean(0) / out_sample.std(0, ddof=1)
        best = int(np.argmax(is_sr))
        rank = 1 + sum(1 for v in oos_sr if v < oos_sr[best])  # no ties in continuous noise
        omega = rank / (returns.shape[1] + 1)
        below += math.log(omega / (1 - omega)) <= 0
    return below / len(combos)


def test_pbo_worked_example_by_hand() -> None:
    # Two blocks of two rows (S = 2: the splits are block 0 in-sample, then block 1). Within every block
    # each trial's two returns differ by 2, so all block standard deviations are equal and the Sharpe
    # ratios rank as the block means: A (2, -1), B (1, 1), C (0, 2).
    a, b, c = [3, 1, 0, -2], [2, 0, 2, 0], [1, -1, 3, 1]
    returns = np.array([a, b, c], dtype=float).T

    result = pbo_cscv(returns, splits=2)

    # Block 0 in-sample picks A (mean 2), which is last of three in block 1: rank 1, w = 1/4.
    # Block 1 in-sample picks C (mean 2), which is last in block 0: rank 1, w = 1/4. Both overfit.
    assert result.logits == pytest.approx([math.log(1 / 3), math.log(1 / 3)])
    assert result.pbo == 1.0
    assert (result.splits, result.rows_used) == (2, 4)


def test_pbo_worked_example_with_a_consistent_winner_is_zero() -> None:
    # B now has mean 3 in both blocks: best in-sample each time, and first of three out-of-sample (w = 3/4).
    a, b, c = [3, 1, 0, -2], [4, 2, 4, 2], [1, -1, 3, 1]
    result = pbo_cscv(np.array([a, b, c], dtype=float).T, splits=2)
    assert result.logits == pytest.approx([math.log(3), math.log(3)])
    assert result.pbo == 0.0


@pytest.mark.parametrize("splits", [4, 6, 8])
def test_pbo_equals_the_split_by_split_computation(splits: int) -> None:
    returns = np.random.default_rng(splits).normal(0, 0.01, (203, 17))  # 203 rows: a remainder is dropped

    assert pbo_cscv(returns, splits).pbo == pytest.approx(_naive_pbo(returns, splits))


def test_pbo_of_pure_noise_is_near_one_half() -> None:
    values = [
        pbo_cscv(np.random.default_rng(seed).normal(0, 0.01, (400, 40)), splits=8).pbo for seed in range(30)
    ]
    assert np.mean(values) == pytest.approx(0.5, abs=0.1)


def test_pbo_with_one_dominating_trial_is_near_zero() -> None:
    returns = np.random.default_rng(1).normal(0, 0.01, (1600, 100))
    returns[:, 37] += 0.005  # a Sharpe ratio of 0.5 a period, in every block

    result = pbo_cscv(returns, splits=16)

    assert len(result.logits) == 12_870
    assert result.pbo == 0.0


def test_pbo_ranks_trials_that_never_trade_as_sharpe_zero() -> None:
    # Losing, flat and winning trials: the winner is best everywhere; the flat column sits between.
    rng = np.random.default_rng(2)
    returns = np.column_stack([rng.normal(-0.01, 0.01, 64), np.zeros(64), rng.normal(0.02, 0.01, 64)])
    result = pbo_cscv(returns, splits=4)
    assert result.pbo == 0.0
    assert np.all(np.isfinite(result.logits))


@pytest.mark.parametrize(
    ("shape", "splits", "message"),
    [
        ((100, 5), 3, "even"),
        ((100, 5), 0, "even"),
        ((100, 1), 4, "two trials"),
        ((7, 5), 16, "too few"),
    ],
)
def test_pbo_refuses_what_it_cannot_measure(shape: tuple[int, int], splits: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pbo_cscv(np.zeros(shape), splits)


def test_pbo_refuses_non_finite_returns() -> None:
    returns = np.zeros((64, 3))
    returns[5, 1] = math.nan
    with pytest.raises(ValueError, match="finite"):
        pbo_cscv(returns, 4)
