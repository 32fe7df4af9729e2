"""GET /ohlc and GET /ticks in JSON, Arrow and CSV, and their refusals."""

from __future__ import annotations

import io

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.data.core.mt5_csv import parse_mt5_csv
from shared.columnar import decode_arrow
from shared.market.bars import aggregate_bars
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.market.timeframes import get_timeframe
from tests.data.api.conftest import MONDAY, stores_of
from tests.data.unit.factories import make_ticks
from tests.support.bars import m1_bars


@pytest.fixture
def stored_bars(client: TestClient) -> np.ndarray:
    bars = m1_bars(MONDAY, 600)
    stores_of(client).bars.upsert("EURUSD", "M1", bars, "import")
    return bars


def test_ohlc_json_inclusive_range_returns_columns(client: TestClient, stored_bars: np.ndarray) -> None:
    response = client.get("/ohlc/EURUSD/M1", params={"from": MONDAY + 60, "to": MONDAY + 180})

    assert response.status_code == 200
    body = response.json()
    assert (body["symbol"], body["timeframe"], body["count"]) == ("EURUSD", "M1", 3)
    assert body["columns"]["time"] == [MONDAY + 60, MONDAY + 120, MONDAY + 180]
    assert body["columns"]["close"] == stored_bars["close"][1:4].tolist()
    assert set(body["columns"]) == set(RATES_DTYPE.names or ())


def test_ohlc_arrow_equals_stored_bars(client: TestClient, stored_bars: np.ndarray) -> None:
    response = client.get("/ohlc/EURUSD/M1", params={"from": "2024-01-01T00:00:00Z", "format": "arrow"})

    assert response.headers["content-type"].startswith("application/vnd.apache.arrow")
    np.testing.assert_array_equal(decode_arrow(response.content, RATES_DTYPE), stored_bars)


def test_ohlc_csv_is_an_mt5_export_of_the_bars(client: TestClient, stored_bars: np.ndarray) -> None:
    response = client.get("/ohlc/EURUSD/M1", params={"count": 50, "format": "csv"})

    assert response.headers["content-type"].startswith("text/csv")
    parsed = parse_mt5_csv(io.BytesIO(response.content), timeframe=get_timeframe("M1"))
    np.testing.assert_array_equal(parsed.data, stored_bars[-50:])


def test_ohlc_count_returns_newest_up_to_to(client: TestClient, stored_bars: np.ndarray) -> None:
    body = client.get("/ohlc/EURUSD/M1", params={"count": 2, "to": MONDAY + 600}).json()

    assert body["columns"]["time"] == [MONDAY + 540, MONDAY + 600]


def test_ohlc_unstored_timeframe_is_built_from_a_lower_one(
    client: TestClient, stored_bars: np.ndarray
) -> None:
    body = client.get("/ohlc/EURUSD/M2", params={"from": MONDAY, "to": MONDAY + 3600}).json()

    expected = aggregate_bars(stored_bars[:61], get_timeframe("M2"))[:31]
    assert body["columns"]["time"] == expected["time"].tolist()
    assert body["columns"]["high"] == expected["high"].tolist()


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/ohlc/NOPE/M1", {"count": 1}, 404, "unknown_symbol"),
        ("/ohlc/EURUSD/M7", {"count": 1}, 422, "unknown_timeframe"),
        ("/ohlc/EURUSD/M1", {"from": MONDAY + 60, "to": MONDAY}, 422, "invalid_range"),
        ("/ohlc/EURUSD/M1", {"count": 5_001}, 422, "range_too_large"),
        ("/ohlc/EURUSD/M1", {}, 422, "invalid_range"),
        ("/ohlc/EURUSD/M1", {"from": "yesterday"}, 422, "invalid_time"),
        # Found by fuzzing: an infinite or far-future time overflowed (a 500).
        ("/ohlc/EURUSD/M1", {"from": "inf"}, 422, "invalid_time"),
        ("/ohlc/EURUSD/M1", {"from": "1e30"}, 422, "invalid_time"),
        ("/completeness/EURUSD/M1", {"from": 0, "to": "1e31"}, 422, "invalid_time"),
        ("/ohlc/EURUSD/M1", {"count": 1, "format": "xml"}, 422, "validation_error"),
        ("/ticks/EURUSD", {"from": MONDAY, "limit": 5_001}, 422, "range_too_large"),
        ("/ticks/EURUSD", {}, 422, "validation_error"),
        ("/ticks/XAUEUR", {"from": MONDAY}, 404, "unknown_symbol"),
    ],
)
def test_read_bad_input_is_refused_naming_the_problem(
    client: TestClient, path: str, params: dict[str, object], status: int, code: str
) -> None:
    response = client.get(path, params=params)

    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_ohlc_range_over_the_limit_is_refused(client: TestClient) -> None:
    stores_of(client).bars.upsert("EURUSD", "M1", m1_bars(MONDAY, 5_001), "import")

    response = client.get("/ohlc/EURUSD/M1", params={"from": MONDAY})

    assert response.status_code == 422
    assert response.json()["error"]["details"]["limit"] == 5_000


@pytest.fixture
def stored_ticks(client: TestClient) -> np.ndarray:
    ticks = make_ticks(3_000, start_ms=MONDAY * 1000, max_step_ms=3)
    stores_of(client).ticks.insert_batch("EURUSD", ticks)
    return ticks


def test_ticks_json_inclusive_range_in_stored_order(client: TestClient, stored_ticks: np.ndarray) -> None:
    first, last = int(stored_ticks["time_msc"][10]), int(stored_ticks["time_msc"][500])

    body = client.get("/ticks/EURUSD", params={"from": first, "to": last}).json()

    times = stored_ticks["time_msc"]
    expected = stored_ticks[(times >= first) & (times <= last)]
    assert body["columns"]["time_msc"] == expected["time_msc"].tolist()
    assert body["columns"]["bid"] == expected["bid"].tolist()


def test_ticks_arrow_with_limit_returns_the_oldest(client: TestClient, stored_ticks: np.ndarray) -> None:
    response = client.get("/ticks/EURUSD", params={"from": MONDAY, "limit": 100, "format": "arrow"})

    np.testing.assert_array_equal(decode_arrow(response.content, TICKS_DTYPE), stored_ticks[:100])


def test_ticks_csv_parses_back_to_the_ticks(client: TestClient, stored_ticks: np.ndarray) -> None:
    response = client.get("/ticks/EURUSD", params={"from": MONDAY, "format": "csv"})

    np.testing.assert_array_equal(parse_mt5_csv(io.BytesIO(response.content)).data, stored_ticks)


def test_ticks_range_over_the_limit_is_refused(client: TestClient) -> None:
    stores_of(client).ticks.insert_batch("EURUSD", make_ticks(5_001, start_ms=MONDAY * 1000))

    response = client.get("/ticks/EURUSD", params={"from": MONDAY})

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "range_too_large"


def test_ticks_and_ohlc_json_answer_columns_like_mt5(
    client: TestClient, stored_ticks: np.ndarray, stored_bars: np.ndarray
) -> None:
    """One shape for one thing: `{symbol, ..., count, columns}`, as mt5's /ticks and /rates answer."""
    ticks = client.get("/ticks/EURUSD", params={"from": MONDAY, "limit": 5}).json()
    bars = client.get("/ohlc/EURUSD/M1", params={"from": MONDAY, "to": MONDAY + 120}).json()

    assert set(ticks) == {"symbol", "count", "columns"}
    assert list(ticks["columns"]) == list(TICKS_DTYPE.names or ())
    assert set(bars) == {"symbol", "timeframe", "count", "coverage", "columns"}
    assert list(bars["columns"]) == list(RATES_DTYPE.names or ())


def test_symbol_and_timeframe_in_any_case_answer_upper_case(
    client: TestClient, stored_bars: np.ndarray, stored_ticks: np.ndarray
) -> None:
    bars = client.get("/ohlc/eurusd/m1", params={"from": MONDAY, "to": MONDAY + 60}).json()
    ticks = client.get("/ticks/EurUsd", params={"from": MONDAY, "limit": 1}).json()

    assert (bars["symbol"], bars["timeframe"], bars["count"]) == ("EURUSD", "M1", 2)
    assert (ticks["symbol"], ticks["count"]) == ("EURUSD", 1)


@pytest.mark.parametrize(
    ("path", "status", "code", "field"),
    [
        ("/ohlc/EURUSD/M7", 422, "unknown_timeframe", "path.timeframe"),
        ("/ohlc/NOPE/M1", 404, "unknown_symbol", "path.symbol"),
    ],
)
def test_unknown_names_are_refused_in_one_shape_naming_the_field(
    client: TestClient, path: str, status: int, code: str, field: str
) -> None:
    response = client.get(path, params={"count": 1})

    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == (code, field)
