"""The symbol routes say which bars they used and the holes in them, read from the real data service;
chart analysis says when it had too few bars for a detector."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from services.data.main import create_app as create_data_app
from services.data.settings import DataSettings
from services.pattern.main import create_app
from services.pattern.settings import PatternSettings
from shared.config import load_config, resolve_internal_token
from shared.market.coverage import Coverage
from shared.market.records import RATES_DTYPE
from tests.support.platform import write_config
from tests.support.served_app import ServedApp

MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC
DAY = 86_400


def h1_bars(start_s: int, n: int) -> np.ndarray:
    bars = np.zeros(n, dtype=RATES_DTYPE)
    bars["time"] = start_s + 3600 * np.arange(n)
    bars["open"] = bars["close"] = 1.1 + 1e-4 * np.sin(np.arange(n) / 5)
    bars["high"] = bars["open"] + 2e-4
    bars["low"] = bars["open"] - 2e-4
    bars["tick_volume"] = 10
    return bars


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The pattern service in front of a real data service holding EURUSD H1 with a two-week hole
    (Tuesday 2 to Monday 15 January) and five bars of GBPUSD."""
    path = write_config(tmp_path_factory.mktemp("coverage"))
    data_settings = load_config(path, model=DataSettings)
    data_app = create_data_app(data_settings)
    settings = load_config(path, model=PatternSettings)
    with ServedApp("data", data_app, data_settings.service("data").port):
        stores = data_app.state.stores
        stores.bars.upsert(
            "EURUSD", "H1", np.concatenate([h1_bars(MONDAY, 24), h1_bars(MONDAY + 14 * DAY, 48)]), "terminal"
        )
        stores.bars.upsert("GBPUSD", "H1", h1_bars(MONDAY, 5), "terminal")
        headers = {"X-Internal-Token": resolve_internal_token(settings)}
        with TestClient(create_app(settings), headers=headers) as test_client:
            yield test_client


HOLE = {"from": MONDAY + DAY, "to": MONDAY + 14 * DAY, "bars": 216, "unfillable": False}
WINDOW = {"from": MONDAY, "to": MONDAY + 16 * DAY - 3600}


def test_indicators_over_a_two_week_hole_say_so(client: TestClient) -> None:
    response = client.get("/indicators/EURUSD/H1", params={"indicators": "SMA(5)", **WINDOW})

    assert response.status_code == 200
    coverage = response.json()["coverage"]
    assert (coverage["count"], coverage["first"], coverage["last"]) == (72, MONDAY, MONDAY + 16 * DAY - 3600)
    assert coverage["holes"] == [HOLE]


def test_indicators_as_arrow_carry_the_coverage_in_the_schema_metadata(client: TestClient) -> None:
    params = {"indicators": "SMA(5)", **WINDOW}
    by_json = client.get("/indicators/EURUSD/H1", params=params).json()

    response = client.get("/indicators/EURUSD/H1", params={**params, "format": "arrow"})

    metadata = pa.ipc.open_stream(response.content).schema.metadata
    assert Coverage.from_metadata(metadata) == Coverage.model_validate(by_json["coverage"])


def test_indicators_count_window_counts_the_look_back_read(client: TestClient) -> None:
    coverage = client.get("/indicators/EURUSD/H1", params={"indicators": "SMA(5)", "count": 10}).json()[
        "coverage"
    ]

    # 10 bars asked for, 20 look-backs of 4 bars read before them: all 72 stored bars, the hole inside.
    assert coverage["count"] == 72
    assert coverage["holes"] == [HOLE]


def test_patterns_over_a_two_week_hole_say_so(client: TestClient) -> None:
    body = client.get("/patterns/EURUSD/H1", params={**WINDOW, "patterns": "CDLENGULFING"}).json()

    assert body["coverage"]["holes"] == [HOLE]


def test_chart_patterns_over_a_hole_say_so(client: TestClient) -> None:
    body = client.get("/chart-patterns/EURUSD/H1", params=WINDOW).json()

    assert body["coverage"]["holes"] == [HOLE]
    assert body["notes"] == []


def test_chart_patterns_over_five_bars_say_the_detectors_need_more(client: TestClient) -> None:
    body = client.get("/chart-patterns/GBPUSD/H1", params={"count": 5}).json()

    assert body["coverage"]["count"] == 5
    assert body["double_tops"] == body["double_bottoms"] == []
    notes = {note["detector"]: (note["code"], note["bars"], note["minimum"]) for note in body["notes"]}
    assert notes == {"double_tops": ("too_few_bars", 5, 8), "double_bottoms": ("too_few_bars", 5, 8)}


def test_posted_bars_have_no_calendar_so_holes_are_null(client: TestClient) -> None:
    bars = h1_bars(MONDAY, 5)
    body = {
        "bars": {name: bars[name].tolist() for name in ("time", "open", "high", "low", "close")},
        "indicators": ["SMA(2)"],
    }

    coverage = client.post("/indicators/compute", json=body).json()["coverage"]

    assert coverage == {
        "count": 5,
        "first": MONDAY,
        "last": MONDAY + 4 * 3600,
        "from": None,
        "to": None,
        "holes": None,
    }
