"""Trading calendars: when a symbol's market is open, so closed hours are never counted as gaps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.market.timeframes import Timeframe

_DAY = 86_400
_WEEK = 7 * _DAY
# The epoch (1970-01-01) was a Thursday; shifting by 4 days makes week offsets start on Sunday 00:00.
_SUNDAY_SHIFT = 4 * _DAY


@dataclass(frozen=True, slots=True)
class WeeklyCalendar:
    """A market open once a week from `open_offset_s` to `close_offset_s`, both from Sunday 00:00 UTC.

    The FX default opens Sunday 22:00 and closes Friday 22:00 UTC.
    """

    open_offset_s: int = 22 * 3600
    close_offset_s: int = 5 * _DAY + 22 * 3600

    def is_open(self, t: int) -> bool:
        """True when epoch second `t` falls inside trading hours."""
        offset = (t + _SUNDAY_SHIFT) % _WEEK
        return self.open_offset_s <= offset < self.close_offset_s

    def is_open_array(self, t: np.ndarray) -> np.ndarray:
        offset = (t + _SUNDAY_SHIFT) % _WEEK
        return (offset >= self.open_offset_s) & (offset < self.close_offset_s)

    def next_open(self, t: int) -> int:
        """The first open second at or after `t`."""
        if self.is_open(t):
            return t
        week_start = (t + _SUNDAY_SHIFT) // _WEEK * _WEEK - _SUNDAY_SHIFT
        candidate = week_start + self.open_offset_s
        return candidate if candidate >= t else candidate + _WEEK

    def open_intervals(self, start: int, end: int) -> list[tuple[int, int]]:
        """Half-open [a, b) trading intervals intersecting [start, end)."""
        out: list[tuple[int, int]] = []
        week_start = (start + _SUNDAY_SHIFT) // _WEEK * _WEEK - _SUNDAY_SHIFT
        while week_start < end:
            a = max(start, week_start + self.open_offset_s)
            b = min(end, week_start + self.close_offset_s)
            if a < b:
                out.append((a, b))
            week_start += _WEEK
        return out

    def expected_bar_opens(self, timeframe: Timeframe, start: int, end: int) -> np.ndarray:
        """Open times in [start, end) of bars that overlap trading hours (Sunday's D1 bar counts)."""
        if end <= start:
            return np.empty(0, dtype=np.int64)
        first = timeframe.floor(start)
        if first < start:
            first = timeframe.next_open(first)
        if timeframe.seconds == 0:  # MN1: every month holds trading hours
            months: list[int] = []
            while first < end:
                months.append(first)
                first = timeframe.next_open(first)
            return np.asarray(months, dtype=np.int64)
        opens = np.arange(first, end, timeframe.seconds, dtype=np.int64)
        offset = (opens + _SUNDAY_SHIFT) % _WEEK
        bar_end = offset + timeframe.seconds
        overlaps = (offset < self.close_offset_s) & (bar_end > self.open_offset_s)
        wraps = bar_end > _WEEK + self.open_offset_s  # a bar running past Sunday 00:00 into the next open
        return opens[overlaps | wraps]


FX_CALENDAR = WeeklyCalendar()
ALWAYS_OPEN = WeeklyCalendar(open_offset_s=0, close_offset_s=_WEEK)
