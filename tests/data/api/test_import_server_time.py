"""POST /import of exports stamped in the broker's server time: stored in UTC, complete, counted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.data.settings import DataSettings
from shared.config import load_config
from tests.data.api.conftest import make_settings, open_client, stores_of
from tests.data.broker_export import (
    MARKET,
    broker_bar_export,
    broker_tick_export,
    market_bars,
    server_offset_s,
    utc,
)

TUESDAY_BARS = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n"
    "2024.01.09\t10:00:00\t1.10000\t1.10010\t1.09990\t1.10005\t12\t0\t7\r\n"
    "2024.01.09\t10:01:00\t1.10005\t1.10020\t1.10000\t1.10015\t9\t0\t6\r\n"
)


# Two whole weeks each: well inside US winter, well inside US summer, and across both US DST switches
# of 2024 (Sunday March 10 and Sunday November 3), so "auto" must follow the offset week by week.
@pytest.mark.parametrize(
    ("from_s", "to_s"),
    [
        (utc(2024, 1, 7, 12), utc(2024, 1, 20)),
        (utc(2024, 7, 7, 12), utc(2024, 7, 20)),
        (utc(2024, 3, 3, 12), utc(2024, 3, 16)),
        (utc(2024, 10, 27, 12), utc(2024, 11, 9)),
    ],
    ids=["winter", "summer", "dst-start", "dst-end"],
)
def test_import_auto_broker_export_is_complete_in_utc(client: TestClient, from_s: int, to_s: int) -> None:
    bars = market_bars("EURUSD", "M1", from_s, to_s)
    body = broker_bar_export(bars)

    response = client.post(
        "/import",
        params={"symbol": "EURUSD", "timeframe": "M1", "server_time_offset_s": "auto"},
        content=body,
    )

    assert response.status_code == 200, response.text
    stored = stores_of(client).bars.read("EURUSD", "M1", from_s, to_s)
    np.testing.assert_array_equal(stored, bars)
    completeness = client.get(
        "/completeness/EURUSD/M1", params={"from": int(bars["time"][0]), "to": int(bars["time"][-1])}
    ).json()
    assert completeness["percent"] == 100.0
    assert completeness["missing"] == []
    offsets = {run["offset_s"] for run in response.json()["server_time"]["offsets"]}
    assert offsets == {server_offset_s(from_s), server_offset_s(to_s)}


def test_import_auto_tick_export_across_a_weekend_is_stored_in_utc(client: TestClient) -> None:
    # Friday evening to Monday morning of the DST-start weekend: +2 h before it, +3 h after it.
    ticks = MARKET.ticks("EURUSD", utc(2024, 3, 8, 20) * 1000, utc(2024, 3, 11, 1) * 1000)
    body = broker_tick_export(ticks)

    response = client.post(
        "/import", params={"symbol": "EURUSD", "server_time_offset_s": "auto"}, content=body
    )

    assert response.status_code == 200, response.text
    stored = stores_of(client).ticks.read_range("EURUSD", int(ticks["time_msc"][0]), 2**62, None)
    np.testing.assert_array_equal(stored["time_msc"], ticks["time_msc"])
    np.testing.assert_array_equal(stored["bid"], ticks["bid"])
    assert [run["offset_s"] for run in response.json()["server_time"]["offsets"]] == [7200, 10800]


def test_import_fixed_offset_stores_server_time_minus_offset(client: TestClient) -> None:
    response = client.post(
        "/import",
        params={"symbol": "EURUSD", "timeframe": "M1", "server_time_offset_s": "7200"},
        content=TUESDAY_BARS,
    )

    assert response.status_code == 200, response.text
    stored = stores_of(client).bars.read("EURUSD", "M1")
    assert stored["time"].tolist() == [utc(2024, 1, 9, 8), utc(2024, 1, 9, 8) + 60]


def test_import_default_offset_is_the_mt5_adapter_setting(tmp_path: Path) -> None:
    path = make_settings(tmp_path).config_file
    config = json.loads(path.read_text())
    config["mt5"]["metatrader5"]["server_time_offset_s"] = 10800
    path.write_text(json.dumps(config))

    with open_client(load_config(path, model=DataSettings)) as client:
        response = client.post(
            "/import", params={"symbol": "EURUSD", "timeframe": "M1"}, content=TUESDAY_BARS
        )

        assert response.status_code == 200, response.text
        assert response.json()["server_time"]["setting"] == 10800
        assert stores_of(client).bars.read("EURUSD", "M1")["time"][0] == utc(2024, 1, 9, 7)


def test_import_auto_without_a_whole_week_is_refused_and_writes_nothing(client: TestClient) -> None:
    response = client.post(
        "/import",
        params={"symbol": "EURUSD", "timeframe": "M1", "server_time_offset_s": "auto"},
        content=TUESDAY_BARS,
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "server_time_unknown"
    assert error["details"]["field"] == "server_time_offset_s"
    assert "2024.01.09" in error["message"]
    assert len(stores_of(client).bars.read("EURUSD", "M1", count=10)) == 0


@pytest.mark.parametrize("value", ["abc", "1.5", "86400", "-50000", ""])
def test_import_bad_offset_is_refused_naming_the_field(client: TestClient, value: str) -> None:
    response = client.post(
        "/import",
        params={"symbol": "EURUSD", "timeframe": "M1", "server_time_offset_s": value},
        content=TUESDAY_BARS,
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "server_time_offset_s"
    assert len(stores_of(client).bars.read("EURUSD", "M1", count=10)) == 0


def test_import_daily_bars_off_the_utc_day_are_refused_saying_why(client: TestClient) -> None:
    body = TUESDAY_BARS.replace("10:00:00", "00:00:00").replace(
        "2024.01.09\t10:01:00", "2024.01.10\t00:00:00"
    )

    response = client.post(
        "/import",
        params={"symbol": "EURUSD", "timeframe": "D1", "server_time_offset_s": "7200"},
        content=body,
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["details"]["line"] == 2
    assert "UTC" in error["message"] and "M1" in error["message"]


def test_import_again_reports_replaced_rows_apart_from_inserted(client: TestClient) -> None:
    params = {"symbol": "EURUSD", "timeframe": "M1", "server_time_offset_s": "0"}
    first = client.post("/import", params=params, content=TUESDAY_BARS).json()
    more = TUESDAY_BARS + "2024.01.09\t10:02:00\t1.10015\t1.10020\t1.10000\t1.10010\t4\t0\t6\r\n"

    again = client.post("/import", params=params, content=more).json()

    assert (first["inserted"], first["replaced"]) == (2, 0)
    assert (again["rows"], again["inserted"], again["replaced"]) == (3, 1, 2)


def test_import_ticks_again_reports_ticks_already_stored(client: TestClient) -> None:
    body = (
        "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n"
        "2024.01.09\t10:00:00.100\t1.10000\t1.10010\t\t1\t6\r\n"
        "2024.01.09\t10:00:00.200\t1.10001\t1.10011\t\t1\t6\r\n"
    )
    params = {"symbol": "EURUSD", "server_time_offset_s": "0"}
    client.post("/import", params=params, content=body[: body.rindex("2024")])

    again = client.post("/import", params=params, content=body).json()

    assert (again["rows"], again["inserted"], again["replaced"], again["already_stored"]) == (2, 1, 0, 1)
