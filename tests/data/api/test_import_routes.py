"""POST /import: good files stored, bad files refused with the line and nothing written, round trips."""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi.testclient import TestClient

from shared.columnar import decode_arrow
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from tests.data.api.conftest import MONDAY, m1_bars, stores_of
from tests.data.unit.factories import make_ticks

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
        "bytes_read": len(BARS_CSV),
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
