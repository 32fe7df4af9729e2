"""Completeness of stored bars against a trading calendar: expected opens, actual opens, missing ranges.

Closed hours expect no bars, so weekends are never gaps. Every expected open without a stored bar is
missing (the simulated market ticks throughout open hours); missing opens inside a range marked
unfillable (the terminal had no data) are reported as such, so gap fill reports them and stops asking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.timeframes import Timeframe

_DAY = 86_400


@dataclass(frozen=True, slots=True)
class MissingRange:
    """A maximal run of missing expected bars as a half-open [from_s, to_s) interval."""

    from_s: int
    to_s: int
    bars: int
    unfillable: bool = False


@dataclass(frozen=True, slots=True)
class DayCompleteness:
    """Expected and stored bars of one UTC day (day = epoch second of its 00:00)."""

    day: int
    expected: int
    actual: int

    @property
    def percent(self) -> float:
        return 100.0 if self.expected == 0 else 100.0 * self.actual / self.expected


@dataclass(frozen=True, slots=True)
class CompletenessReport:
    """Completeness of one timeframe over [from_s, to_s)."""

    timeframe: str
    from_s: int
    to_s: int
    expected: int
    actual: int
    days: list[DayCompleteness] = field(default_factory=list)
    missing: list[MissingRange] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 if self.expected == 0 else 100.0 * self.actual / self.expected

    @property
    def fillable(self) -> list[MissingRange]:
        """Missing ranges gap fill should still fetch."""
        return [r for r in self.missing if not r.unfillable]


def _inside(times: np.ndarray, ranges: Sequence[tuple[int, int]]) -> np.ndarray:
    """Mask of times falling inside any of the [a, b) ranges."""
    mask = np.zeros(len(times), dtype=bool)
    for a, b in ranges:
        lo, hi = np.searchsorted(times, [a, b])
        mask[lo:hi] = True
    return mask


def completeness(
    timeframe: Timeframe,
    from_s: int,
    to_s: int,
    stored_times: np.ndarray,
    calendar: WeeklyCalendar = FX_CALENDAR,
    unfillable: Sequence[tuple[int, int]] = (),
) -> CompletenessReport:
    """Compare stored bar opens in [from_s, to_s) with the calendar's expected opens."""
    expected = calendar.expected_bar_opens(timeframe, from_s, to_s)
    present = np.isin(expected, stored_times)
    days, inverse = np.unique(expected // _DAY * _DAY, return_inverse=True)
    per_day_expected = np.bincount(inverse, minlength=len(days))
    per_day_actual = np.bincount(inverse, weights=present, minlength=len(days)).astype(np.int64)
    report_days = [
        DayCompleteness(int(d), int(e), int(a))
        for d, e, a in zip(days, per_day_expected, per_day_actual, strict=True)
    ]
    missing = missing_runs(timeframe, expected, present, unfillable)
    return CompletenessReport(
        timeframe.name, from_s, to_s, len(expected), int(present.sum()), report_days, missing
    )


def missing_runs(
    timeframe: Timeframe,
    expected: np.ndarray,
    present: np.ndarray,
    unfillable: Sequence[tuple[int, int]] = (),
) -> list[MissingRange]:
    """Maximal runs of expected opens without a bar (`present` False), split where marked unfillable."""
    # Runs of equal state over the expected opens: 0 present, 1 missing, 2 missing but unfillable.
    state = np.where(present, 0, np.where(_inside(expected, unfillable), 2, 1))
    boundaries = np.flatnonzero(np.r_[True, state[1:] != state[:-1]]) if len(state) else np.empty(0, np.int64)
    ends = np.r_[boundaries[1:], len(state)]
    return [
        MissingRange(
            int(expected[lo]), timeframe.next_open(int(expected[hi - 1])), int(hi - lo), bool(state[lo] == 2)
        )
        for lo, hi in zip(boundaries, ends, strict=True)
        if state[lo] != 0
    ]
