"""GET /ohlc builds a timeframe's missing ranges from lower stored ones, and says which holes remain."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from fastapi.testclient import TestClient

from shared.market.bars import aggregate_bars
from shared.market.coverage import Coverage
from shared.market.timeframes import get_timeframe
from tests.data.api.conftest import MONDAY, stores_of
from tests.support.bars import m1_bars

DAY = 86_400


def test_ohlc_timeframe_stored_only_today_is_built_over_gap_filled_days(client: TestClient) -> None:
    # Gap fill wrote Monday and Tuesday in M1; collection wrote Wednesday's first minutes in every timeframe.
    m1 = m1_bars(MONDAY, 2 * DAY // 60 + 10)
    stores = stores_of(client)
    stores.bars.upsert("EURUSD", "M1", m1, "terminal")
    stores.bars.upsert("EURUSD", "M5", aggregate_bars(m1[-10:], get_timeframe("M5")), "ticks")

    response = client.get("/ohlc/EURUSD/M5", params={"from": MONDAY, "to": MONDAY + 3 * DAY - 1})

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 * 288 + 2
    assert body["columns"]["close"] == aggregate_bars(m1, get_timeframe("M5"))["close"].tolist()


def test_ohlc_over_a_two_week_hole_reports_it_in_json_and_arrow(client: TestClient) -> None:
    first, second = m1_bars(MONDAY, 1440), m1_bars(MONDAY + 14 * DAY, 1440)
    stores_of(client).bars.upsert(
        "EURUSD", "H1", aggregate_bars(np.concatenate([first, second]), get_timeframe("H1")), "terminal"
    )
    params = {"from": MONDAY, "to": MONDAY + 15 * DAY - 1}

    body = client.get("/ohlc/EURUSD/H1", params=params).json()
    arrow = client.get("/ohlc/EURUSD/H1", params={**params, "format": "arrow"})

    hole = {"from": MONDAY + DAY, "to": MONDAY + 14 * DAY, "bars": 216, "unfillable": False}
    assert body["coverage"] == {
        "count": 48,
        "first": MONDAY,
        "last": MONDAY + 15 * DAY - 3600,
        "from": MONDAY,
        "to": MONDAY + 15 * DAY,
        "holes": [hole],
    }
    metadata = pa.ipc.open_stream(arrow.content).schema.metadata
    assert Coverage.from_metadata(metadata) == Coverage.model_validate(body["coverage"])


def test_ohlc_count_read_counts_holes_between_its_first_and_last_bar(client: TestClient) -> None:
    m1 = m1_bars(MONDAY, 600)
    stores_of(client).bars.upsert("EURUSD", "M1", np.concatenate([m1[:100], m1[110:]]), "import")

    coverage = client.get("/ohlc/EURUSD/M1", params={"count": 500}).json()["coverage"]

    assert (coverage["count"], coverage["first"], coverage["last"]) == (
        500,
        MONDAY + 90 * 60,
        MONDAY + 599 * 60,
    )
    assert coverage["holes"] == [
        {"from": MONDAY + 6000, "to": MONDAY + 6600, "bars": 10, "unfillable": False}
    ]
