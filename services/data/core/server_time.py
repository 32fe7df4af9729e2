"""Broker server time -> UTC for imports: a fixed offset, or one measured week by week ("auto").

MT5 exports carry the broker's server time, commonly UTC+2 in US winter and UTC+3 in US summer. The
offset never changes inside a trading week (daylight saving switches fall on a weekend), so "auto" takes
each week of the file and measures where its rows start against the calendar's open of that week: the
first row is at or just after the open, whatever the timeframe up to H1. The file's first week may begin
mid-week (an export's range is the user's choice), so it is measured where its rows end against the
calendar's close instead. Weeks are told apart in server time by the middle of the closed weekend, which
holds for any offset smaller than half the weekend.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from shared.errors import InvalidInputError
from shared.market.calendar import WeeklyCalendar

ServerTimeOffset = int | Literal["auto"]
MIN_OFFSET_S = -12 * 3600  # the time zones' range: a measurement outside it is no offset
MAX_OFFSET_S = 14 * 3600
_STEP_S = 1800  # time zones step in half hours
_DAY = 86_400
_FIELD = "server_time_offset_s"


def parse_offset(value: str) -> ServerTimeOffset:
    """`auto` or whole seconds inside the time zones' range; anything else is refused naming the field."""
    text = value.strip()
    if text.lower() == "auto":
        return "auto"
    try:
        seconds = int(text)
    except ValueError:
        seconds = None
    if seconds is None or not MIN_OFFSET_S <= seconds <= MAX_OFFSET_S:
        raise InvalidInputError(
            f"{_FIELD} must be 'auto' or whole seconds from {MIN_OFFSET_S} to {MAX_OFFSET_S}; got {value!r}",
            details={"field": _FIELD, "value": value},
        )
    return seconds


@dataclass(frozen=True, slots=True)
class WeekOffset:
    """One trading week of a file: its rows' server-time span [first_s, last_s] and their offset."""

    first_s: int
    last_s: int
    offset_s: int


@dataclass(slots=True)
class _Week:
    """A week in server time: its rows fall in [from_s, to_s); the calendar's open and close, UTC."""

    from_s: int
    to_s: int
    open_s: int
    close_s: int
    first_s: int = 0
    last_s: int = 0
    last_end_s: int = 0


def _week_around(t: int, calendar: WeeklyCalendar) -> _Week | None:
    """The calendar week whose rows, in server time, hold `t`; None when the calendar has no weekend."""
    intervals = calendar.open_intervals(t - 8 * _DAY, t + 8 * _DAY)
    for before, week, after in zip(intervals, intervals[1:], intervals[2:], strict=False):
        if week[0] - before[1] < 2 * MAX_OFFSET_S or after[0] - week[1] < 2 * MAX_OFFSET_S:
            return None
        start, end = (before[1] + week[0]) // 2, (week[1] + after[0]) // 2
        if start <= t < end:
            return _Week(start, end, week[0], week[1])
    return None


def _stamp(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y.%m.%d %H:%M")


def _unknown(message: str, week: _Week | None = None) -> InvalidInputError:
    details: dict[str, object] = {"field": _FIELD}
    if week is not None:
        details["week_first_row"] = _stamp(week.first_s)
        details["week_last_row"] = _stamp(week.last_s)
    return InvalidInputError(
        f"{message}; pass {_FIELD} as seconds (e.g. 7200 for UTC+2)",
        code="server_time_unknown",
        details=details,
    )


def _plausible(offset: int) -> int | None:
    return offset if MIN_OFFSET_S <= offset <= MAX_OFFSET_S else None


def _measure(week: _Week, *, first_of_several: bool, only: bool) -> int:
    # The first row is at or after the open, so the offset is at most its distance (rounded down);
    # the last row ends at or before the close, so the offset is at least its distance (rounded up).
    at_open = _plausible((week.first_s - week.open_s) // _STEP_S * _STEP_S)
    at_close = _plausible(-((week.close_s - week.last_end_s) // _STEP_S) * _STEP_S)
    if only and at_open is not None and at_close is not None and at_open != at_close:
        raise _unknown(
            f"the file's one week ({_stamp(week.first_s)} .. {_stamp(week.last_s)} server time) starts as if "
            f"at UTC{at_open / 3600:+g} h and ends as if at UTC{at_close / 3600:+g} h",
            week,
        )
    order = (at_close, at_open) if first_of_several else (at_open, at_close)
    chosen = next((o for o in order if o is not None), None)
    if chosen is None:
        raise _unknown(
            f"the week of {_stamp(week.first_s)} .. {_stamp(week.last_s)} server time neither starts at the "
            "market's weekly open nor ends at its close, so its server time cannot be measured",
            week,
        )
    return chosen


def measure_weeks(
    times_ms: Iterable[int], row_end_s: Callable[[int], int], calendar: WeeklyCalendar
) -> list[WeekOffset]:
    """The offset of each trading week among the rows' server times (time-ordered, epoch ms as if UTC).

    `row_end_s` gives where a row starting at a time ends (the bar's close; a tick's own time)."""
    weeks: list[_Week] = []
    week: _Week | None = None
    for t_ms in times_ms:
        t = t_ms // 1000
        if week is None or not week.from_s <= t < week.to_s:
            week = _week_around(t, calendar)
            if week is None:
                raise _unknown("the market's calendar has no weekend to tell the weeks apart")
            week.first_s = t
            weeks.append(week)
        week.last_s = t
        week.last_end_s = max(week.last_end_s, row_end_s(t))
    if not weeks:
        raise _unknown("the file holds no row to measure")
    return [
        WeekOffset(
            w.first_s, w.last_s, _measure(w, first_of_several=i == 0 < len(weeks) - 1, only=len(weeks) == 1)
        )
        for i, w in enumerate(weeks)
    ]


class WeeklyOffsets:
    """Server time -> UTC by the measured weeks (a row belongs to the last week starting at or before it)."""

    def __init__(self, weeks: list[WeekOffset]) -> None:
        self._starts_ms = [w.first_s * 1000 for w in weeks]
        self._offsets_ms = [w.offset_s * 1000 for w in weeks]

    def to_utc_ms(self, server_ms: int) -> int:
        i = max(bisect.bisect_right(self._starts_ms, server_ms) - 1, 0)
        return server_ms - self._offsets_ms[i]


def offset_runs(weeks: list[WeekOffset]) -> list[dict[str, int]]:
    """Consecutive weeks of equal offset as {from, to, offset_s} (first and last row, epoch s UTC)."""
    runs: list[dict[str, int]] = []
    for w in weeks:
        if runs and runs[-1]["offset_s"] == w.offset_s:
            runs[-1]["to"] = w.last_s - w.offset_s
        else:
            runs.append({"from": w.first_s - w.offset_s, "to": w.last_s - w.offset_s, "offset_s": w.offset_s})
    return runs
