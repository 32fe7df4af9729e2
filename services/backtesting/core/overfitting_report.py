"""The `overfitting` block of an optimisation result: each trial's returns on a coarse grid of periods
(the last bar of each UTC day), measured in the worker beside its metrics, and the deflated Sharpe ratio of
the selected trial and the PBO of the trials computed from them (core/overfitting.py).

A day's return costs one equity lookup per day, so measuring adds microseconds to a backtest of
milliseconds. Every trial reports its moments (a few numbers); only an evenly spaced sample of at most
`pbo_max_trials` trials sends its whole series back, so a 100,000-combination grid does not hold 100,000
series in memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.backtesting.core.metrics import DAY_S
from services.backtesting.core.overfitting import (
    ReturnMoments,
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    return_moments,
)
from services.backtesting.core.run_warnings import RunWarning


class OverfittingSettings(BaseModel):
    """How an optimisation measures overfitting (the `backtesting.overfitting` section)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_periods: int = Field(
        default=2_000,
        ge=16,
        description="periods (days) of the returns grid; a longer history is grouped into fewer, longer periods",
    )
    pbo_max_trials: int = Field(
        default=1_000, ge=2, description="trials (evenly spaced over the search) whose returns enter the PBO"
    )
    pbo_splits: int = Field(
        default=16, ge=2, le=20, description="blocks S of the CSCV; C(S, S/2) splits (16: 12,870)"
    )
    pbo_min_block_periods: int = Field(
        default=4, ge=1, description="fewest periods per block: with fewer, the PBO is null and says why"
    )

    @field_validator("pbo_splits")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("pbo_splits must be even")
        return value


def period_marks(time: np.ndarray, max_periods: int) -> np.ndarray:
    """Bar indices whose equity delimits the periods: the first bar, then the last bar of each UTC day (of
    each bar, for daily or longer bars); thinned evenly when there are more than `max_periods` periods."""
    day = np.floor_divide(time, DAY_S)
    marks = np.r_[0, np.flatnonzero(day[1:] != day[:-1]), len(time) - 1]
    marks = np.unique(marks)  # a one-bar first day ends at bar 0
    periods = len(marks) - 1
    if periods > max_periods:
        step = math.ceil(periods / max_periods)
        marks = np.unique(np.r_[marks[::step], marks[-1]])
    return marks


@dataclass(frozen=True, slots=True)
class TrialReturns:
    """One trial's per-period return moments, and its returns when it is in the PBO sample."""

    moments: ReturnMoments
    returns: np.ndarray | None


def trial_returns(equity: np.ndarray, marks: np.ndarray, keep: bool) -> TrialReturns:
    """The returns between the equity at consecutive `marks`. An account that has run out of money (zero
    equity) earns nothing after that, rather than an undefined 0/0."""
    points = equity[marks]
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = points[1:] / points[:-1] - 1.0
    returns = np.nan_to_num(returns, nan=0.0, posinf=0.0, neginf=0.0)
    return TrialReturns(return_moments(returns), returns if keep else None)


def pbo_sample(n_trials: int, max_trials: int) -> list[bool]:
    """Which of `n_trials` trials keep their returns: all, or `max_trials` evenly spaced over the search
    (a grid's first thousand combinations would all share its first parameter's first values)."""
    keep = np.zeros(n_trials, dtype=bool)
    keep[np.unique(np.linspace(0, n_trials - 1, min(n_trials, max_trials)).round().astype(int))] = True
    return keep.tolist()


class OverfittingReport(BaseModel):
    """How much of the best result may be selection. Sharpe ratios are per period (a day's returns), not
    annualised; a measure is null when it cannot be computed, and the result's warnings say why."""

    trials: int = Field(description="valid combinations evaluated: N of the deflated Sharpe ratio")
    observations: int = Field(description="periods (days) of the selected trial's returns: T")
    best_sharpe: float | None = Field(description="the selected (top-ranked) trial's Sharpe ratio per period")
    expected_max_sharpe: float | None = Field(description="the best of N no-skill trials' expected Sharpe")
    deflated_sharpe_ratio: float | None = Field(
        description="P(the selected trial's true Sharpe > that), 0..1"
    )
    pbo: float | None = Field(description="probability of backtest overfitting by CSCV, 0..1")
    pbo_trials: int = Field(description="trials whose returns entered the PBO")
    pbo_splits: int = Field(description="blocks S of the CSCV")


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _warning(code: str, message: str) -> RunWarning:
    return RunWarning(code=code, message=message, count=1)


def overfitting_report(
    trials: Sequence[TrialReturns], selected: int, settings: OverfittingSettings
) -> tuple[OverfittingReport, list[RunWarning]]:
    """The report over all valid `trials` of a search, `selected` being the index of the top-ranked one."""
    warnings: list[RunWarning] = []
    best = trials[selected].moments
    sharpes = np.array([t.moments.sharpe for t in trials])
    sharpes = sharpes[np.isfinite(sharpes)]
    variance = float(np.var(sharpes, ddof=1)) if len(sharpes) > 1 else 0.0
    benchmark = expected_max_sharpe(len(trials), variance)
    dsr = deflated_sharpe(
        best.sharpe,
        observations=best.observations,
        trials=len(trials),
        sharpe_variance=variance,
        skew=best.skew,
        kurtosis=best.kurtosis,
    )
    if not math.isfinite(dsr):
        warnings.append(
            _warning(
                "deflated_sharpe_unavailable",
                f"no deflated Sharpe ratio: the best combination's {best.observations} daily returns "
                f"(skew {best.skew:.3g}, kurtosis {best.kurtosis:.3g}) do not define one",
            )
        )

    sample = [t.returns for t in trials if t.returns is not None]
    splits, needed = settings.pbo_splits, settings.pbo_splits * settings.pbo_min_block_periods
    pbo: float | None = None
    if len(sample) < 2:
        reason = f"{len(sample)} combination(s) kept their returns; it needs at least 2"
    elif len(sample[0]) < needed:
        reason = (
            f"{len(sample[0])} daily returns are fewer than {splits} blocks x "
            f"{settings.pbo_min_block_periods} (backtesting.overfitting.pbo_min_block_periods)"
        )
    else:
        reason = ""
        pbo = pbo_cscv(np.column_stack(sample), splits).pbo
    if reason:
        warnings.append(_warning("pbo_unavailable", f"no probability of backtest overfitting: {reason}"))
    report = OverfittingReport(
        trials=len(trials),
        observations=best.observations,
        best_sharpe=_finite(best.sharpe),
        expected_max_sharpe=_finite(benchmark),
        deflated_sharpe_ratio=_finite(dsr),
        pbo=pbo,
        pbo_trials=len(sample),
        pbo_splits=splits,
    )
    return report, warnings
