"""How much of a search's best result is selection: the deflated Sharpe ratio and the probability of
backtest overfitting. Pure functions of per-period returns and Sharpe ratios (no engine, no settings).

Every Sharpe ratio here is per period (mean over standard deviation of one period's returns, e.g. a
day's), never annualised: the formulas count observations, so an annualised figure would be off by the
square root of the periods per year (test_overfitting.py checks the conversion on the paper's example).

- Deflated Sharpe ratio (Bailey & López de Prado, 2014, "The Deflated Sharpe Ratio: Correcting for
  Selection Bias, Backtest Overfitting and Non-Normality"): the probabilistic Sharpe ratio of the selected
  trial against the Sharpe ratio that the best of N independent trials of no skill would be expected to
  show, given the variance of the trials' Sharpe ratios.
- Probability of backtest overfitting by combinatorially symmetric cross-validation (Bailey, Borwein,
  López de Prado & Zhu, 2015, "The Probability of Backtest Overfitting"): how often the trial that is best
  in one half of the blocks ranks in the bottom half of the other.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

EULER_MASCHERONI = 0.5772156649015329
_NORMAL = NormalDist()
# Combinations evaluated at once in pbo_cscv: bounds the (combinations x trials) temporaries to ~16 MB each.
_CELLS_PER_BATCH = 1 << 21


def expected_max_sharpe(trials: int, sharpe_variance: float) -> float:
    """E[max] of `trials` independent Sharpe ratios of true value 0 and variance `sharpe_variance` (the
    paper's approximation: (1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e)), g the Euler-Mascheroni constant,
    scaled by the standard deviation). One trial selects nothing: 0."""
    if trials < 1 or not sharpe_variance >= 0:
        return math.nan
    if trials == 1:
        return 0.0
    z = (1 - EULER_MASCHERONI) * _NORMAL.inv_cdf(1 - 1 / trials) + EULER_MASCHERONI * _NORMAL.inv_cdf(
        1 - 1 / (trials * math.e)
    )
    return math.sqrt(sharpe_variance) * z


def probabilistic_sharpe(
    sharpe: float, benchmark: float, observations: int, skew: float, kurtosis: float
) -> float:
    """P(true Sharpe > `benchmark`) given an observed per-period `sharpe` over `observations` returns
    whose skewness and (non-excess) kurtosis are given; NaN when undefined (fewer than two observations,
    or moments for which the Sharpe ratio's variance estimate is not positive)."""
    spread = 1 - skew * sharpe + (kurtosis - 1) / 4 * sharpe**2
    if observations < 2 or not spread > 0 or not math.isfinite(sharpe - benchmark):
        return math.nan
    return _NORMAL.cdf((sharpe - benchmark) * math.sqrt(observations - 1) / math.sqrt(spread))


def deflated_sharpe(
    sharpe: float,
    *,
    observations: int,
    trials: int,
    sharpe_variance: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """The deflated Sharpe ratio, a probability in [0, 1]: the probabilistic Sharpe ratio of the selected
    trial's per-period `sharpe` against the expected maximum of `trials` trials' Sharpe ratios."""
    return probabilistic_sharpe(
        sharpe, expected_max_sharpe(trials, sharpe_variance), observations, skew, kurtosis
    )


@dataclass(frozen=True, slots=True)
class ReturnMoments:
    """Per-period Sharpe ratio, skewness and (non-excess) kurtosis of a return series, and its length.
    A series without variation (a trial that never traded) has Sharpe 0, skew 0 and kurtosis 3: it neither
    gained nor lost, and has no tails."""

    sharpe: float
    skew: float
    kurtosis: float
    observations: int


def return_moments(returns: np.ndarray) -> ReturnMoments:
    """The moments of one series of per-period returns (finite values; population moments for skew and
    kurtosis, the sample standard deviation for the Sharpe ratio, as the paper's estimators)."""
    n = len(returns)
    if n < 2:
        return ReturnMoments(math.nan, math.nan, math.nan, n)
    deviations = returns - returns.mean()
    variance = float(np.mean(deviations**2))
    if variance <= 1e-10 * float(np.mean(returns**2)):  # as _block_sharpe: rounding noise is no variation
        return ReturnMoments(0.0, 0.0, 3.0, n)
    sample_sd = math.sqrt(variance * n / (n - 1))
    return ReturnMoments(
        sharpe=float(returns.mean()) / sample_sd,
        skew=float(np.mean(deviations**3)) / variance**1.5,
        kurtosis=float(np.mean(deviations**4)) / variance**2,
        observations=n,
    )


@dataclass(frozen=True, slots=True)
class PboResult:
    """The probability of backtest overfitting, and the logit of the in-sample best trial's out-of-sample
    relative rank for each of the C(S, S/2) splits (logit <= 0: it ranked at or below the median)."""

    pbo: float
    logits: np.ndarray
    splits: int
    rows_used: int


def _block_sharpe(total: np.ndarray, squares: np.ndarray, count: int) -> np.ndarray:
    """Sharpe ratios from sums and sums of squares of `count` returns; 0 where the returns do not vary."""
    # count x (count - 1) x variance, computed in place: these arrays are (combinations x trials) large.
    spread = np.multiply(total, total)
    np.subtract(count * squares, spread, out=spread)
    # Sums of equal returns leave rounding noise (about count x epsilon of the mean square) in place of a
    # zero variance: below that, the returns count as not varying.
    varies = spread > 1e-10 * count * squares
    np.sqrt(spread, out=spread, where=varies)
    # mean / sample sd = total / count / sqrt(spread / (count (count - 1))) = total sqrt((count - 1) / count)
    # / sqrt(spread)
    out = np.zeros_like(total)
    np.divide(total, spread, out=out, where=varies)
    out *= math.sqrt((count - 1) / count)
    return out


def pbo_cscv(returns: np.ndarray, splits: int = 16) -> PboResult:
    """PBO of a T x N matrix of per-period returns (rows: time, columns: trials), by CSCV with `splits`
    (S, even) blocks of consecutive rows: for each choice of S/2 blocks as in-sample, the trial with the
    best in-sample Sharpe ratio is ranked among all trials out-of-sample (the other S/2 blocks; ties get
    their average rank r, of 1..N), w = r / (N + 1), logit = ln(w / (1 - w)); PBO = share of logits <= 0.

    The oldest T mod S rows are left out so the blocks are equal. Raises ValueError for an odd or too small
    S, fewer than two trials, blocks of fewer than one row or out-of-sample halves of fewer than two, or
    non-finite returns.
    """
    if splits < 2 or splits % 2:
        raise ValueError(f"splits must be an even number >= 2, not {splits}")
    if returns.ndim != 2 or returns.shape[1] < 2:
        raise ValueError("need a 2-D matrix of at least two trials")
    if not np.all(np.isfinite(returns)):
        raise ValueError("returns must be finite")
    n_rows, n_trials = returns.shape
    block_rows = n_rows // splits
    half_rows = block_rows * splits // 2
    if half_rows < 2:
        raise ValueError(f"{n_rows} rows are too few for {splits} blocks")
    blocks = returns[n_rows - block_rows * splits :].reshape(splits, block_rows, n_trials)
    block_sums, block_squares = blocks.sum(axis=1), (blocks**2).sum(axis=1)
    all_sums, all_squares = block_sums.sum(axis=0), block_squares.sum(axis=0)

    chosen = np.array(list(itertools.combinations(range(splits), splits // 2)))
    in_sample = np.zeros((len(chosen), splits))
    in_sample[np.arange(len(chosen))[:, None], chosen] = 1.0
    logits = np.empty(len(chosen))
    batch = max(1, _CELLS_PER_BATCH // n_trials)
    for first in range(0, len(chosen), batch):
        mask = in_sample[first : first + batch]
        is_sums, is_squares = mask @ block_sums, mask @ block_squares
        is_sharpe = _block_sharpe(is_sums, is_squares, half_rows)
        oos_sharpe = _block_sharpe(all_sums - is_sums, all_squares - is_squares, half_rows)
        best = np.argmax(is_sharpe, axis=1)
        picked = oos_sharpe[np.arange(len(mask)), best][:, None]
        rank = (oos_sharpe < picked).sum(axis=1) + ((oos_sharpe == picked).sum(axis=1) + 1) / 2
        omega = rank / (n_trials + 1)
        logits[first : first + len(mask)] = np.log(omega / (1 - omega))
    return PboResult(
        pbo=float(np.mean(logits <= 0)), logits=logits, splits=splits, rows_used=block_rows * splits
    )
