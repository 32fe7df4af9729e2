"""Predictions on the data service's bars say which bars were read and the holes in them (real data service)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.ai.settings import AiSettings
from services.data.main import create_app as create_data_app
from services.data.settings import DataSettings
from shared.config import load_config
from tests.ai.api.conftest import open_client, rates, run_training
from tests.ai.support import FAST_HYPERPARAMETERS, FEATURES, START, planted_bars
from tests.support.bars import json_columns
from tests.support.platform import write_config
from tests.support.served_app import ServedApp

DAY = 86_400


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The ai service in front of a real data service holding EURUSD H1 with a two-week hole at its end:
    the first 200 hours, then nothing from START + 14 days to the last 100 hours."""
    path = write_config(tmp_path_factory.mktemp("ai-coverage"), overrides={"ai": {"workers": 1}})
    settings = load_config(path, model=AiSettings)
    data_settings = load_config(path, model=DataSettings)
    data_app = create_data_app(data_settings)
    bars = rates(1000)
    kept = bars[(bars["time"] < START + 200 * 3600) | (bars["time"] >= bars["time"][-100])]
    with ServedApp("data", data_app, data_settings.service("data").port):
        data_app.state.stores.bars.upsert("EURUSD", "H1", kept, "terminal")
        with open_client(settings) as c:
            yield c


@pytest.fixture(scope="module")
def model_id(client: TestClient) -> str:
    body: dict[str, Any] = {
        "name": "lr",
        "model_type": "logistic_regression",
        "features": FEATURES,
        "hyperparameters": FAST_HYPERPARAMETERS["logistic_regression"],
        "folds": 3,
        "bars": json_columns(planted_bars(600)),
    }
    job = run_training(client, body)
    assert job["state"] == "completed", job["error"]
    return str(job["result"]["model_id"])


def test_predict_latest_over_a_hole_says_so(client: TestClient, model_id: str) -> None:
    response = client.post(
        f"/models/{model_id}/predict", json={"symbol": "EURUSD", "timeframe": "H1", "count": 150}
    )

    assert response.status_code == 200
    coverage = response.json()["coverage"]
    assert coverage["count"] > 150
    assert len(coverage["holes"]) == 1
    hole = coverage["holes"][0]
    # The hole's ends are the calendar's first and last missing opens (weekend hours are not expected).
    assert START + 200 * 3600 <= hole["from"] < hole["to"] <= int(rates(1000)["time"][-100])
    assert hole["bars"] > 24 * 14 // 2


def test_predict_posted_bars_has_no_calendar_so_holes_are_null(client: TestClient, model_id: str) -> None:
    bars = planted_bars(50)

    coverage = client.post(f"/models/{model_id}/predict", json={"bars": json_columns(bars)}).json()[
        "coverage"
    ]

    assert coverage["holes"] is None
    assert (coverage["count"], coverage["first"], coverage["last"]) == (
        50,
        START,
        int(np.asarray(bars["time"])[-1]),
    )
