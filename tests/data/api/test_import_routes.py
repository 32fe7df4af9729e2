"""POST /import: good files stored, bad files refused with the line and nothing written, round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from shared.columnar import decode_arrow
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from tests.data.api.conftest import MONDAY, make_settings, open_client, stores_of
from tests.data.unit.factories import make_ticks
from tests.support.bars import m1_bars

BARS_CSV = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n"
    "2024.01.02\t00:00:00\t1.10000\t1.10010\t1.09990\t1.10005\t12\t0\t7\r\n"
    "2024.01.02\t00:01:00\t1.10005\t1.10020\t1.10000\t1.10015\t9\t0\t6\r\n"
)


def test_import_bar_file_stores_the_bars_and_reports_progress(client: TestClient) -> None:
    events: list[dict[str, Any]] = []
    client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]

    response = client.post("/import", params={"symbol": "EURUSD", "timeframe": "M1"}, content=BARS_CSV)

    assert response.status_code == 200
    assert response.json() == {
        "symbol": "EURUSD",
        "timeframe": "M1",
        "kind": "bars",
        "rows": 2,
        "written": 2,
        "inserted": 2,
        "replaced": 0,
        "already_stored": 0,
        "bytes_read": len(BARS_CSV),
        "server_time": {"setting": 0, "offsets": [{"from": 1704153600, "to": 1704153660, "offset_s": 0}]},
    }
    stored = stores_of(client).bars.read("EURUSD", "M1")
    assert stored["close"].tolist() == [1.10005, 1.10015]
    progress = [e["data"] for e in events if e["type"] == "import.progress"]
    assert progress[-1] == {
        "symbol": "EURUSD",
        "bytes_read": len(BARS_CSV),
        "total_bytes": len(BARS_CSV),
        "percent": 100.0,
    }


def test_import_bad_line_is_refused_and_writes_nothing(client: TestClient) -> None:
    bad = BARS_CSV + "2024.01.02\t00:02:00\t1.1\t1.0\t1.2\t1.1\t3\t0\t5\r\n"

    response = client.post("/import", params={"symbol": "EURUSD", "timeframe": "M1"}, content=bad)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_csv"
    assert error["details"]["line"] == 4
    assert "high/low" in error["details"]["reason"]
    assert len(stores_of(client).bars.read("EURUSD", "M1", count=10)) == 0


def test_import_refuses_unknown_symbol_timeframe_and_empty_body(client: TestClient) -> None:
    unknown_symbol = client.post("/import", params={"symbol": "ABCDEF", "timeframe": "M1"}, content=BARS_CSV)
    unknown_tf = client.post("/import", params={"symbol": "EURUSD", "timeframe": "M7"}, content=BARS_CSV)
    empty = client.post("/import", params={"symbol": "EURUSD", "timeframe": "M1"}, content=b"")
    no_tf = client.post("/import", params={"symbol": "EURUSD"}, content=BARS_CSV)

    assert unknown_symbol.status_code == 404
    assert unknown_tf.json()["error"]["code"] == "unknown_timeframe"
    assert empty.json()["error"]["code"] == "invalid_csv"
    assert no_tf.status_code == 422
    assert len(stores_of(client).bars.read("EURUSD", "M1", count=10)) == 0


def test_import_export_round_trip_bars_is_identical(client: TestClient) -> None:
    bars = m1_bars(MONDAY, 3_000)
    stores_of(client).bars.upsert("EURUSD", "M1", bars, "ticks")
    exported = client.get("/ohlc/EURUSD/M1", params={"from": MONDAY, "format": "csv"}).content

    client.post("/import", params={"symbol": "GBPUSD", "timeframe": "M1"}, content=exported)

    back = client.get("/ohlc/GBPUSD/M1", params={"from": MONDAY, "format": "arrow"}).content
    np.testing.assert_array_equal(decode_arrow(back, RATES_DTYPE), bars)


def test_import_export_round_trip_ticks_is_identical(client: TestClient) -> None:
    ticks = make_ticks(4_000, start_ms=MONDAY * 1000, max_step_ms=5)
    stores_of(client).ticks.insert_batch("EURUSD", ticks)
    exported = client.get("/ticks/EURUSD", params={"from": MONDAY, "format": "csv"}).content

    response = client.post("/import", params={"symbol": "USDJPY"}, content=exported)

    assert response.json()["kind"] == "ticks"
    back = client.get("/ticks/USDJPY", params={"from": MONDAY, "format": "arrow"}).content
    np.testing.assert_array_equal(decode_arrow(back, TICKS_DTYPE), ticks)


BAR_HEAD = "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n"
TICK_HEAD = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n"
GOOD_TICK = "2024.01.02\t00:00:00.100\t1.10000\t1.10010\t\t1\t6\r\n"


@pytest.mark.parametrize(
    ("kind", "bad_line", "column"),
    [
        ("bars", "2024.01.02\t00:02:00\t1.1\t1.2\t1.0\t1.1\t99999999999999999999\t0\t7", "<TICKVOL>"),
        ("bars", "2024.01.02\t00:02:00\t1.1\t1.2\t1.0\t1.1\t5\t1e30\t7", "<VOL>"),
        ("bars", "2024.01.02\t00:02:00\t1.1\t1.2\t1.0\t1.1\t5\t0\t4294967296", "<SPREAD>"),
        ("ticks", "2024.01.02\t00:00:01\t1.1\t1.2\t\t1e300\t6", "<VOLUME>"),
        ("ticks", "2024.01.02\t00:00:01\t1.1\t1.2\t\t1\t99999999999", "<FLAGS>"),
    ],
)
def test_import_value_too_big_for_its_column_is_refused_naming_line_and_column(
    client: TestClient, kind: str, bad_line: str, column: str
) -> None:
    body = (BARS_CSV if kind == "bars" else TICK_HEAD + GOOD_TICK) + bad_line + "\r\n"
    params = {"symbol": "EURUSD", "timeframe": "M1"} if kind == "bars" else {"symbol": "EURUSD"}

    response = client.post("/import", params=params, content=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_csv"
    assert error["details"]["line"] == (4 if kind == "bars" else 3)
    assert error["details"]["column"] == column
    assert column in error["message"]
    assert len(stores_of(client).bars.read("EURUSD", "M1", count=10)) == 0
    assert stores_of(client).ticks.last_cursor("EURUSD") is None


@pytest.mark.parametrize(
    ("kind", "bad_line", "column"),
    [
        ("bars", "2024.01.02\t00:02:00\t0\t0\t0\t0\t5\t0\t7", "<OPEN>"),
        ("bars", "0001.01.01\t00:00:00\t1.1\t1.2\t1.0\t1.1\t5\t0\t7", "<DATE>"),
        ("bars", "9999.12.31\t00:00:00\t1.1\t1.2\t1.0\t1.1\t5\t0\t7", "<DATE>"),
        ("ticks", "2024.01.02\t00:00:01\t1.2\t1.1\t\t1\t6", "<BID>"),
        ("ticks", "2024.01.02\t00:00:01\t1.1\t1.2\t-1\t1\t6", "<LAST>"),
        ("ticks", "2099.01.02\t00:00:01\t1.1\t1.2\t\t1\t6", "<DATE>"),
    ],
)
def test_import_insane_price_or_date_is_refused_naming_the_line(
    client: TestClient, kind: str, bad_line: str, column: str
) -> None:
    head = BARS_CSV if kind == "bars" else TICK_HEAD + GOOD_TICK
    if bad_line.startswith("0001"):
        head = BAR_HEAD  # the first data line, so "times must increase" cannot answer first
    body = head + bad_line + "\r\n"
    params = {"symbol": "EURUSD", "timeframe": "M1"} if kind == "bars" else {"symbol": "EURUSD"}

    response = client.post("/import", params=params, content=body)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["line"] == body.count("\n")
    assert error["details"]["column"] == column
    assert len(stores_of(client).bars.read("EURUSD", "M1", count=10)) == 0
    assert stores_of(client).ticks.last_cursor("EURUSD") is None


def test_import_date_window_is_configurable(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, {"imports": {"earliest_year": 2025}})
    with open_client(settings) as client:
        response = client.post("/import", params={"symbol": "EURUSD", "timeframe": "M1"}, content=BARS_CSV)

    assert response.status_code == 422
    assert response.json()["error"]["details"] == {
        "line": 2,
        "column": "<DATE>",
        "reason": response.json()["error"]["details"]["reason"],
    }
    assert "2025" in response.json()["error"]["message"]
