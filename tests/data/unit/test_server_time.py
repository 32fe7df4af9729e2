"""Measuring a file's server-time offset week by week against the market's calendar."""

from __future__ import annotations

import pytest

from services.data.core.server_time import measure_weeks, parse_offset
from shared.errors import InvalidInputError
from shared.market.calendar import ALWAYS_OPEN, FX_CALENDAR
from tests.data.broker_export import market_bars, to_server_s, utc


def _server_ms(from_s: int, to_s: int) -> list[int]:
    bars = market_bars("EURUSD", "M1", from_s, to_s)
    return [t * 1000 for t in to_server_s(bars["time"].astype("int64")).tolist()]


def _bar_end(t: int) -> int:
    return t + 60


def test_measure_weeks_first_week_started_mid_week_is_measured_at_its_close() -> None:
    # Wednesday 10:00 UTC of a winter week to the Wednesday after: an export range the user chose.
    times = _server_ms(utc(2024, 1, 10, 10), utc(2024, 1, 17, 10))

    weeks = measure_weeks(times, _bar_end, FX_CALENDAR)

    assert [w.offset_s for w in weeks] == [7200, 7200]


def test_measure_weeks_one_partial_week_is_refused_naming_the_field() -> None:
    times = _server_ms(utc(2024, 7, 10, 10), utc(2024, 7, 11, 10))
    times_started_late = _server_ms(utc(2024, 7, 8, 6), utc(2024, 7, 12, 21))

    with pytest.raises(InvalidInputError) as unknown:
        measure_weeks(times, _bar_end, FX_CALENDAR)
    with pytest.raises(InvalidInputError) as ambiguous:
        measure_weeks(times_started_late, _bar_end, FX_CALENDAR)

    assert unknown.value.code == ambiguous.value.code == "server_time_unknown"
    assert ambiguous.value.details["field"] == "server_time_offset_s"


def test_measure_weeks_calendar_without_weekend_cannot_tell_weeks_apart() -> None:
    with pytest.raises(InvalidInputError, match="no weekend"):
        measure_weeks([utc(2024, 1, 9) * 1000], _bar_end, ALWAYS_OPEN)


def test_parse_offset_takes_auto_and_seconds_in_the_time_zones_range() -> None:
    assert (parse_offset("auto"), parse_offset(" 10800 "), parse_offset("-18000")) == ("auto", 10800, -18000)
    for bad in ("2h", "50401", "-43201", "nan"):
        with pytest.raises(InvalidInputError):
            parse_offset(bad)
