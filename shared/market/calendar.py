"""Trading calendars: when a symbol's market is open, so closed hours are never counted as gaps."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from shared.market.timeframes import Timeframe

_DAY = 86_400
_WEEK = 7 * _DAY
# The epoch (1970-01-01) was a Thursday; shifting by 4 days makes week offsets start on Sunday 00:00.
_SUNDAY_SHIFT = 4 * _DAY
_FIRST_SUNDAY = datetime(1970, 1, 4)


@dataclass(frozen=True, slots=True)
class WeeklyCalendar:
    """A market open once a week from `open_offset_s` to `close_offset_s`, both from Sunday 00:00 in
    `timezone`'s local time, so a zone with daylight saving time moves the UTC hours with it.

    The FX default follows New York 17:00: Sunday 22:00 to Friday 22:00 UTC in (US) winter, 21:00 in
    summer, so a real feed's summer weeks are as complete as its winter ones.
    """

    open_offset_s: int = 17 * 3600
    close_offset_s: int = 5 * _DAY + 17 * 3600
    timezone: str = "America/New_York"

    def week_bounds(self, weeks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """UTC open and close (epoch s) of the given week indices (week 0: the one of Sunday 1970-01-04)."""
        if len(weeks) == 0:
            return weeks.copy(), weeks.copy()
        # Few distinct weeks even for a year of M1: convert each once, then index (stays vectorised).
        lo = int(weeks.min())
        table = np.array([self._bounds(w) for w in range(lo, int(weeks.max()) + 1)], dtype=np.int64).reshape(
            -1, 2
        )
        rows = weeks - lo
        return table[rows, 0], table[rows, 1]

    def trading_week(self, t: np.ndarray) -> np.ndarray:
        """The week index (as `week_bounds` numbers them) of each epoch second: the week whose open is the
        latest at or before it, so a Sunday-evening FX bar belongs to the week that opened that evening."""
        t = np.asarray(t, dtype=np.int64)
        if not t.size:
            return t.copy()
        first = (int(t.min()) + _SUNDAY_SHIFT) // _WEEK - 1
        weeks = np.arange(first, (int(t.max()) + _SUNDAY_SHIFT) // _WEEK + 2, dtype=np.int64)
        opens, _ = self.week_bounds(weeks)
        return weeks[np.searchsorted(opens, t, side="right") - 1]

    def _bounds(self, week: int) -> tuple[int, int]:
        if self.timezone == "UTC":
            start = week * _WEEK - _SUNDAY_SHIFT
            return start + self.open_offset_s, start + self.close_offset_s
        return _local_week_bounds(self.timezone, week, self.open_offset_s, self.close_offset_s)

    def _intervals(self, lo_t: int, hi_t: int) -> tuple[np.ndarray, np.ndarray]:
        """Sorted opens and closes of the weeks around [lo_t, hi_t] (a zone's offset can move a week's
        hours across the UTC week boundary, so one week more on each side)."""
        first, last = (lo_t + _SUNDAY_SHIFT) // _WEEK - 1, (hi_t + _SUNDAY_SHIFT) // _WEEK + 1
        return self.week_bounds(np.arange(first, last + 1, dtype=np.int64))

    def is_open(self, t: int) -> bool:
        """True when epoch second `t` falls inside trading hours."""
        week = (t + _SUNDAY_SHIFT) // _WEEK
        for w in (week - 1, week, week + 1):
            a, b = self._bounds(w)
            if a <= t < b:
                return True
        return False

    def is_open_array(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.int64)
        out = np.zeros(t.shape, dtype=bool)
        if not t.size:
            return out
        opens, closes = self._intervals(int(t.min()), int(t.max()))
        nxt = np.searchsorted(closes, t, side="right")  # the first interval closing after t
        inside = nxt < len(closes)
        out[inside] = opens[nxt[inside]] <= t[inside]
        return out

    def next_open(self, t: int) -> int:
        """The first open second at or after `t`."""
        if self.is_open(t):
            return t
        opens, _ = self._intervals(t, t + _WEEK)
        return int(opens[opens >= t].min())

    def last_close(self, t: int) -> int:
        """The most recent close at or before `t` (meaningful while the market is closed at t - 1)."""
        _, closes = self._intervals(t - _WEEK, t)
        return int(closes[closes <= t].max())

    def open_intervals(self, start: int, end: int) -> list[tuple[int, int]]:
        """Half-open [a, b) trading intervals intersecting [start, end)."""
        if end <= start:
            return []
        opens, closes = self._intervals(start, end)
        return [
            (max(start, int(a)), min(end, int(b)))
            for a, b in zip(opens, closes, strict=True)
            if max(start, a) < min(end, b)
        ]

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
        if not len(opens):
            return opens
        week_opens, week_closes = self._intervals(first, end + timeframe.seconds)
        # A bar overlaps trading hours when the first interval closing after its open opens before its end.
        nxt = np.searchsorted(week_closes, opens, side="right")
        found = nxt < len(week_closes)
        overlaps = np.zeros(len(opens), dtype=bool)
        overlaps[found] = week_opens[nxt[found]] < opens[found] + timeframe.seconds
        return opens[overlaps]


@functools.lru_cache(maxsize=8192)
def _local_week_bounds(zone: str, week: int, open_offset_s: int, close_offset_s: int) -> tuple[int, int]:
    """A week's open and close, given as local offsets from its Sunday 00:00 in `zone`, in UTC seconds."""
    tz = ZoneInfo(zone)
    sunday = _FIRST_SUNDAY + timedelta(weeks=week)

    def utc(offset_s: int) -> int:
        return int((sunday + timedelta(seconds=offset_s)).replace(tzinfo=tz).timestamp())

    return utc(open_offset_s), utc(close_offset_s)


FX_CALENDAR = WeeklyCalendar()
ALWAYS_OPEN = WeeklyCalendar(open_offset_s=0, close_offset_s=_WEEK, timezone="UTC")
