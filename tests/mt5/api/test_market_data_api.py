"""GET /symbols, /ticks and /rates: MT5's shapes and dtypes, JSON = Arrow, determinism, refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.mt5.settings import Mt5Settings
from shared.columnar import ARROW_MEDIA_TYPE, decode_arrow, from_columns
from shared.market.bars import ticks_to_bars
from shared.market.records import RATES_DTYPE, TICKS_DTYPE, SymbolInfo, Tick
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import TIMEFRAMES
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, error_of, mt5_client, mt5_config

HOUR_MS = 3_600_000
PAST_FROM_MS = WEDNESDAY_MS - 3 * HOUR_MS
PAST_TO_MS = WEDNESDAY_MS - 2 * HOUR_MS


@pytest.fixture
def settings(tmp_path: Path) -> Mt5Settings:
    return mt5_config(tmp_path)


@pytest.fixture
def client(settings: Mt5Settings) -> TestClient:
    with mt5_client(settings, ManualClock(WEDNESDAY_MS)) as client:
        yield client


def json_ticks(client: TestClient, symbol: str = "EURUSD", **params: object) -> np.ndarray:
    response = client.get(f"/ticks/{symbol}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body["columns"]) == list(TICKS_DTYPE.names)
    assert body["count"] == len(body["columns"]["time"]) == int(response.headers["x-count"])
    return from_columns(body["columns"], TICKS_DTYPE)


def test_symbols_list_and_one_have_mt5_fields(client: TestClient) -> None:
    listed = client.get("/symbols").json()
    assert [s["name"] for s in listed] == [s.name for s in DEFAULT_SYMBOLS]
    assert all(list(s) == list(SymbolInfo._fields) for s in listed)
    eurusd = client.get("/symbols/EURUSD").json()
    assert (eurusd["digits"], eurusd["point"], eurusd["volume_step"]) == (5, 1e-05, 0.01)
    tick = client.get("/symbols/EURUSD/tick").json()
    assert list(tick) == list(Tick._fields) and tick["bid"] < tick["ask"]
    assert tick["time_msc"] <= WEDNESDAY_MS


@pytest.mark.parametrize(
    "path", ["/symbols/NOPE", "/symbols/NOPE/tick", "/ticks/NOPE?from=0&to=1", "/rates/NOPE/H1?count=5"]
)
def test_unknown_symbol_returns_404_unknown_symbol(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_symbol"


def test_ticks_json_and_arrow_are_the_same_ticks_with_mt5_dtype(client: TestClient) -> None:
    ticks = json_ticks(client, **{"from": PAST_FROM_MS, "to": PAST_TO_MS})
    arrow = client.get(f"/ticks/EURUSD?from={PAST_FROM_MS}&to={PAST_TO_MS}&format=arrow")
    by_accept = client.get(
        f"/ticks/EURUSD?from={PAST_FROM_MS}&to={PAST_TO_MS}", headers={"Accept": ARROW_MEDIA_TYPE}
    )
    assert arrow.headers["content-type"] == by_accept.headers["content-type"] == ARROW_MEDIA_TYPE
    assert len(ticks) > 1000
    np.testing.assert_array_equal(decode_arrow(arrow.content, TICKS_DTYPE), ticks)
    assert by_accept.content == arrow.content
    assert (ticks["bid"] < ticks["ask"]).all() and (np.diff(ticks["time_msc"]) >= 0).all()
    np.testing.assert_array_equal(ticks["time"], ticks["time_msc"] // 1000)


def test_ticks_range_includes_both_ends_like_copy_ticks_range(client: TestClient) -> None:
    ticks = json_ticks(client, **{"from": PAST_FROM_MS, "to": PAST_TO_MS})
    first, last = int(ticks["time_msc"][100]), int(ticks["time_msc"][200])
    inner = json_ticks(client, **{"from": first, "to": last})
    expected = ticks[(ticks["time_msc"] >= first) & (ticks["time_msc"] <= last)]
    np.testing.assert_array_equal(inner, expected)
    iso = json_ticks(client, **{"from": "2025-11-19T10:00:00Z", "to": "2025-11-19T11:00:00"})
    np.testing.assert_array_equal(iso, ticks)


def test_ticks_count_returns_the_first_ticks_from(client: TestClient) -> None:
    ticks = json_ticks(client, **{"from": PAST_FROM_MS, "to": PAST_TO_MS})
    first = json_ticks(client, **{"from": PAST_FROM_MS, "count": 25})
    np.testing.assert_array_equal(first, ticks[:25])


def test_ticks_never_come_from_the_future(client: TestClient) -> None:
    ticks = json_ticks(client, **{"from": WEDNESDAY_MS - 60_000, "to": WEDNESDAY_MS + HOUR_MS})
    assert len(ticks) and ticks["time_msc"].max() <= WEDNESDAY_MS
    np.testing.assert_array_equal(json_ticks(client, **{"from": WEDNESDAY_MS - 60_000}), ticks)


def test_ticks_flags_trade_is_empty_for_fx_quotes(client: TestClient) -> None:
    ticks = json_ticks(client, **{"from": PAST_FROM_MS, "to": PAST_TO_MS, "flags": "trade"})
    assert len(ticks) == 0


def test_ticks_identical_after_a_restart_on_the_same_data_dir(settings: Mt5Settings) -> None:
    arrays = []
    for _ in range(2):
        with mt5_client(settings, ManualClock(WEDNESDAY_MS + 5_000)) as client:
            response = client.get(f"/ticks/GBPUSD?from={PAST_FROM_MS}&to={PAST_TO_MS}&format=arrow")
            arrays.append(decode_arrow(response.content, TICKS_DTYPE))
    assert len(arrays[0]) > 0
    np.testing.assert_array_equal(arrays[0], arrays[1])


def test_rates_equal_bars_built_from_the_ticks(client: TestClient) -> None:
    day_from, day_to = WEDNESDAY_MS - 13 * HOUR_MS, WEDNESDAY_MS - 1
    ticks = json_ticks(client, **{"from": day_from, "to": day_to})
    for name in ("M1", "M15", "H1"):
        response = client.get(f"/rates/EURUSD/{name}", params={"from": day_from, "to": day_to - 3_599_999})
        body = response.json()
        assert list(body["columns"]) == list(RATES_DTYPE.names) and body["timeframe"] == name
        rates = from_columns(body["columns"], RATES_DTYPE)
        expected = ticks_to_bars(ticks, TIMEFRAMES[name], 1e-5)
        expected = expected[expected["time"] <= (day_to - 3_599_999) // 1000]
        np.testing.assert_array_equal(rates, expected)
        arrow = client.get(f"/rates/EURUSD/{name}?from={day_from}&to={day_to - 3_599_999}&format=arrow")
        np.testing.assert_array_equal(decode_arrow(arrow.content, RATES_DTYPE), rates)


def test_rates_count_returns_the_last_bars_up_to_to(client: TestClient) -> None:
    to_s = (WEDNESDAY_MS - 2 * HOUR_MS) // 1000
    body = client.get("/rates/EURUSD/M5", params={"count": 12, "to": to_s}).json()
    rates = from_columns(body["columns"], RATES_DTYPE)
    assert len(rates) == 12 and rates["time"][-1] == to_s and (np.diff(rates["time"]) == 300).all()
    latest = from_columns(client.get("/rates/EURUSD/M5?count=3").json()["columns"], RATES_DTYPE)
    last_tick_s = client.get("/symbols/EURUSD/tick").json()["time"]
    assert len(latest) == 3 and latest["time"][-1] == last_tick_s // 300 * 300


@pytest.mark.parametrize(
    ("path", "code", "field"),
    [
        (f"/ticks/EURUSD?from={PAST_TO_MS}&to={PAST_FROM_MS}", "invalid_range", "from"),
        (f"/rates/EURUSD/H1?from={PAST_TO_MS}&to={PAST_FROM_MS}", "invalid_range", "from"),
        (f"/ticks/EURUSD?from={PAST_FROM_MS - 40 * 24 * HOUR_MS}&to={PAST_FROM_MS}", "range_too_large", "to"),
        (f"/ticks/EURUSD?from={PAST_FROM_MS}&count=2000001", "range_too_large", "count"),
        ("/rates/EURUSD/M1?from=2025-01-01&to=2025-11-01", "range_too_large", "to"),
        ("/rates/EURUSD/M1?count=100001", "range_too_large", "count"),
        ("/rates/EURUSD/M7?count=5", "unknown_timeframe", "path.timeframe"),
        ("/ticks/EURUSD?from=yesterday", "invalid_time", "from"),
        ("/ticks/EURUSD?from=inf&to=1", "invalid_time", "from"),  # was an OverflowError, a 500
        ("/history/deals?from=1e30&to=1e31", "invalid_time", "from"),  # was a 500
        (f"/ticks/EURUSD?from={PAST_FROM_MS}&to={PAST_TO_MS}&count=3", "invalid_range", "count"),
        ("/rates/EURUSD/H1", "invalid_input", "from"),
    ],
)
def test_bad_series_request_returns_422_naming_the_field(
    client: TestClient, path: str, code: str, field: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == (code, field)


def test_too_many_ticks_in_range_returns_422(tmp_path: Path) -> None:
    settings = mt5_config(tmp_path, max_ticks_per_request=1000)
    with mt5_client(settings, ManualClock(WEDNESDAY_MS)) as client:
        response = client.get(f"/ticks/EURUSD?from={PAST_FROM_MS}&to={PAST_TO_MS}")
    assert response.status_code == 422
    assert error_of(response)["details"] == {"field": "to", "limit": 1000}


def test_missing_from_returns_422_naming_the_query_field(client: TestClient) -> None:
    response = client.get("/ticks/EURUSD")
    assert response.status_code == 422
    assert error_of(response)["details"]["errors"][0]["field"] == "query.from"


@pytest.mark.parametrize("path", ["/symbols/eurusd", "/symbols/EurUsd/tick", "/ticks/eurusd?from=0&to=1"])
def test_symbol_in_any_case_is_the_upper_case_symbol(client: TestClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 200, response.text
    assert response.json().get("symbol", response.json().get("name", "EURUSD")) == "EURUSD"


def test_rates_with_lower_case_names_answer_upper_case(client: TestClient) -> None:
    body = client.get("/rates/eurusd/m5?count=3").json()

    assert (body["symbol"], body["timeframe"], body["count"]) == ("EURUSD", "M5", 3)


def test_unknown_timeframe_is_refused_naming_the_field(client: TestClient) -> None:
    response = client.get("/rates/EURUSD/M7?count=3")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "unknown_timeframe"
    assert (error["details"]["field"], error["details"]["value"]) == ("path.timeframe", "M7")
