"""GET /completeness and GET /statistics."""

from __future__ import annotations

import numpy as np
from fastapi.testclient import TestClient

from shared.market.calendar import FX_CALENDAR
from shared.market.timeframes import get_timeframe
from tests.data.api.conftest import MONDAY, stores_of
from tests.support.bars import m1_bars

_DAY = 86_400
FRIDAY = MONDAY + 4 * _DAY


def store_trading_hours(client: TestClient, start: int, end: int, holes: list[tuple[int, int]]) -> None:
    """M1 bars at every open minute of [start, end) except inside `holes`."""
    opens = FX_CALENDAR.expected_bar_opens(get_timeframe("M1"), start, end)
    for a, b in holes:
        opens = opens[(opens < a) | (opens >= b)]
    bars = m1_bars(0, len(opens))
    bars["time"] = opens
    stores_of(client).bars.upsert("EURUSD", "M1", bars, "ticks")


def test_completeness_weekend_is_not_a_gap(client: TestClient) -> None:
    store_trading_hours(client, FRIDAY, FRIDAY + 3 * _DAY, [])

    body = client.get("/completeness/EURUSD/M1", params={"from": FRIDAY, "to": FRIDAY + 3 * _DAY - 1}).json()

    days = {d["day"]: d for d in body["days"]}
    assert days[FRIDAY]["expected"] == 22 * 60  # closes at 22:00
    assert FRIDAY + _DAY not in days or days[FRIDAY + _DAY]["expected"] == 0  # Saturday
    assert days[FRIDAY + 2 * _DAY]["expected"] == 2 * 60  # Sunday opens at 22:00
    assert body["percent"] == 100.0
    assert body["missing"] == []


def test_completeness_reports_each_hole_on_its_day(client: TestClient) -> None:
    hole = (MONDAY + 10 * 3600, MONDAY + 10 * 3600 + 300)
    store_trading_hours(client, MONDAY, MONDAY + 2 * _DAY, [hole])

    body = client.get("/completeness/EURUSD/M1", params={"from": MONDAY, "to": MONDAY + 2 * _DAY - 1}).json()

    assert body["missing"] == [{"from": hole[0], "to": hole[1], "bars": 5, "unfillable": False}]
    monday, tuesday = body["days"]
    assert (monday["expected"], monday["actual"], monday["missing"]) == (1440, 1435, 5)
    assert monday["missing_ranges"] == [{"from": hole[0], "to": hole[1], "unfillable": False}]
    assert tuesday["percent"] == 100.0
    assert body["expected"] - body["actual"] == 5


def test_completeness_bad_range_is_refused(client: TestClient) -> None:
    reversed_ = client.get("/completeness/EURUSD/M1", params={"from": MONDAY + 60, "to": MONDAY})
    too_long = client.get("/completeness/EURUSD/M1", params={"from": 0, "to": MONDAY})

    assert reversed_.status_code == 422
    assert too_long.json()["error"]["code"] == "range_too_large"


def test_statistics_counts_rows_and_recent_completeness(client: TestClient) -> None:
    store_trading_hours(client, MONDAY, MONDAY + _DAY, [(MONDAY, MONDAY + 60)])

    body = client.get("/statistics").json()

    (row,) = body["bars"]
    assert (row["symbol"], row["timeframe"], row["rows"]) == ("EURUSD", "M1", 1439)
    assert row["completeness"]["actual"] == 1439
    assert row["completeness"]["expected"] == 1439  # the window starts at the first stored bar
    assert body["size_bytes"] > 0
    assert body["ingest"] == {"running": False, "ticks_per_s": 0}
    assert np.isfinite(row["completeness"]["percent"])


def test_statistics_names_the_window_its_completeness_covers(client: TestClient) -> None:
    store_trading_hours(client, MONDAY, MONDAY + 10 * _DAY, [])

    (row,) = client.get("/statistics").json()["bars"]

    window = row["completeness"]
    last_open = MONDAY + 10 * _DAY - 60  # Wednesday 2024-01-10 23:59, the newest bar
    assert window["window_days"] == 7
    assert window["to"] == last_open + 1
    assert window["from"] == window["to"] - 7 * _DAY
    assert window["from_iso"] == "2024-01-03T23:59:01Z"
    assert window["to_iso"] == "2024-01-10T23:59:01Z"
