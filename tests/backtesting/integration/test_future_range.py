"""A range over stored data that reaches past the market's clock is refused as such (issue 16): 422
`range_in_future` naming the market's now, not "history incomplete, fill the gaps" (a replay market's now
is the mt5 service's `GET /clock`, not the wall's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.backtesting.settings import BacktestingSettings
from tests.backtesting.api.conftest import make_settings, open_client, run_to_end
from tests.backtesting.integration.test_data_source import BARS, START
from tests.backtesting.integration.test_defaults import mt5_standin_app
from tests.support.data_standin import DataStandIn
from tests.support.served_app import ServedApp

MARKET_NOW_S = START + 1000 * 3600  # a replay 1000 hours into the stored bars
FUTURE = (MARKET_NOW_S + 3600, START + 10_000 * 3600)  # what the data service reports missing: not there yet
SPACE = {"fast": {"values": [5, 10]}, "slow": {"values": [20, 40]}}
PATHS = {
    "/backtest/start": {"strategy": "sma_crossover", "params": {"fast": 10, "slow": 20}},
    "/optimize": {"strategy": "sma_crossover", "space": SPACE},
    "/walk-forward": {
        "strategy": "sma_crossover",
        "space": SPACE,
        "in_sample_bars": 300,
        "out_of_sample_bars": 100,
    },
}
LISTS = {"/backtest/start": "/backtests", "/optimize": "/optimizations", "/walk-forward": "/walk-forwards"}


def _replay_mt5() -> FastAPI:
    app = mt5_standin_app()

    @app.get("/clock")
    def clock() -> dict[str, Any]:
        world = "replay-20240101T000000Z-seed0"
        return {"world": world, "clock": "replay", "now_ms": MARKET_NOW_S * 1000, "speed": 1.0}

    return app


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("future"))


@pytest.fixture(scope="module")
def client(settings: BacktestingSettings) -> Iterator[TestClient]:
    store = {(symbol, "H1"): bars for symbol, bars in BARS.items()}
    data = DataStandIn(settings, store, {("EURUSD", "H1"): [FUTURE]})
    mt5 = ServedApp("mt5 stand-in", _replay_mt5(), settings.service("mt5").port)
    with data, mt5, open_client(settings) as c:
        yield c


@pytest.mark.parametrize("path", list(PATHS))
def test_run_ending_after_the_market_now_is_range_in_future_and_persists_nothing(
    client: TestClient, settings: BacktestingSettings, path: str
) -> None:
    body = {**PATHS[path], "symbol": "EURUSD", "timeframe": "H1", "from": START, "to": MARKET_NOW_S + 7200}

    response = client.post(path, json=body)

    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "range_in_future"
    assert error["details"]["field"] == "to"
    assert MARKET_NOW_S * 1000 <= error["details"]["market_now_ms"] < (MARKET_NOW_S + 600) * 1000
    assert error["details"]["market_now"].startswith("2024-02-11T16:")
    assert "2024-02-11T16:" in error["message"]
    assert client.get(LISTS[path]).json() == []
    assert list((settings.jobs_db_path.parent / "bars").iterdir()) == []


def test_backtest_starting_after_the_market_now_names_from(client: TestClient) -> None:
    body = {**PATHS["/backtest/start"], "symbol": "EURUSD", "timeframe": "H1", "allow_gaps": True}

    response = client.post("/backtest/start", json={**body, "from": MARKET_NOW_S + 3600, "to": FUTURE[1]})

    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "range_in_future"
    assert error["details"]["field"] == "from"


def test_backtest_up_to_the_market_now_runs(client: TestClient) -> None:
    body = {
        **PATHS["/backtest/start"],
        "symbol": "EURUSD",
        "timeframe": "H1",
        "from": START,
        "to": MARKET_NOW_S,
    }
    body["sizing"], body["initial_balance"] = {"mode": "fixed", "value": 0.1}, 100_000

    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")

    assert job["state"] == "completed", job["error"]
    assert job["params"]["bars"] == 1001
