"""The FX calendar follows New York 17:00 with daylight saving time: 22:00 UTC in winter, 21:00 in summer."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from shared.market.calendar import ALWAYS_OPEN, FX_CALENDAR
from shared.market.timeframes import get_timeframe

M1, H1 = get_timeframe("M1"), get_timeframe("H1")


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())  # type: ignore[misc]


def test_fx_calendar_summer_week_opens_and_closes_at_21_utc() -> None:
    sunday, friday = utc(2024, 7, 7), utc(2024, 7, 12)

    assert not FX_CALENDAR.is_open(sunday + 21 * 3600 - 1)
    assert FX_CALENDAR.is_open(sunday + 21 * 3600)
    assert FX_CALENDAR.is_open(friday + 21 * 3600 - 1)
    assert not FX_CALENDAR.is_open(friday + 21 * 3600)
    assert FX_CALENDAR.next_open(friday + 22 * 3600) == utc(2024, 7, 14, 21)
    assert FX_CALENDAR.last_close(utc(2024, 7, 13, 12)) == utc(2024, 7, 12, 21)
    assert FX_CALENDAR.open_intervals(sunday, sunday + 7 * 86_400) == [
        (utc(2024, 7, 7, 21), utc(2024, 7, 12, 21))
    ]


def test_fx_calendar_winter_week_opens_and_closes_at_22_utc() -> None:
    sunday = utc(2024, 2, 4)
    assert FX_CALENDAR.open_intervals(sunday, sunday + 7 * 86_400) == [
        (utc(2024, 2, 4, 22), utc(2024, 2, 9, 22))
    ]


def test_fx_calendar_week_of_the_spring_change_closes_at_22_and_reopens_at_21() -> None:
    # US clocks went forward on Sunday 2024-03-10 at 02:00 New York time.
    intervals = FX_CALENDAR.open_intervals(utc(2024, 3, 3), utc(2024, 3, 17))
    assert intervals == [
        (utc(2024, 3, 3, 22), utc(2024, 3, 8, 22)),
        (utc(2024, 3, 10, 21), utc(2024, 3, 15, 21)),
    ]


def test_fx_calendar_expected_m1_of_a_july_week_is_five_full_days() -> None:
    sunday = utc(2024, 7, 7)
    opens = FX_CALENDAR.expected_bar_opens(M1, sunday, sunday + 7 * 86_400)

    assert len(opens) == 5 * 1440
    assert opens[0] == utc(2024, 7, 7, 21) and opens[-1] == utc(2024, 7, 12, 20, 59)
    assert FX_CALENDAR.is_open_array(opens).all()


def test_fx_calendar_expected_bars_match_is_open_over_a_year() -> None:
    start, end = utc(2024, 1, 1), utc(2025, 1, 1)
    minutes = np.arange(start, end, 60, dtype=np.int64)

    opens = FX_CALENDAR.expected_bar_opens(M1, start, end)

    assert np.array_equal(opens, minutes[FX_CALENDAR.is_open_array(minutes)])
    hours = FX_CALENDAR.expected_bar_opens(H1, start, end)
    assert np.array_equal(hours, np.unique(opens - opens % 3600))


def test_always_open_is_open_everywhere() -> None:
    t = np.arange(utc(2024, 7, 5), utc(2024, 7, 9), 600, dtype=np.int64)
    assert ALWAYS_OPEN.is_open_array(t).all()
    assert len(ALWAYS_OPEN.expected_bar_opens(H1, int(t[0]), int(t[0]) + 7 * 86_400)) == 7 * 24


def test_trading_week_sunday_evening_bar_belongs_to_the_week_it_opens() -> None:
    sunday = utc(2024, 2, 4)  # winter: the week opens at 22:00 UTC
    times = np.array([sunday - 2 * 86_400, sunday + 21 * 3600, sunday + 22 * 3600, sunday + 5 * 86_400])

    weeks = FX_CALENDAR.trading_week(times)

    opens, _ = FX_CALENDAR.week_bounds(weeks)
    assert weeks[0] == weeks[1] == weeks[2] - 1 == weeks[3] - 1
    assert opens[2] == utc(2024, 2, 4, 22)
    always = ALWAYS_OPEN.trading_week(np.array([sunday - 1, sunday]))
    assert ALWAYS_OPEN.week_bounds(always)[0].tolist() == [sunday - 7 * 86_400, sunday]
