"""Tick-model backtests through the API: ticks and M1 bars read from a (stand-in) data service, the run
equal to the in-process tick engine, and the refusals (unknown model, inline bars, no stored ticks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.backtesting.core.config import Model
from services.backtesting.core.tick_engine import TickColumns, m1_ticks, run_tick_backtest
from services.backtesting.settings import BacktestingSettings
from shared.trading import build_strategy
from tests.backtesting.api.conftest import json_bars, make_settings, open_client, run_to_end
from tests.backtesting.tick_market import (
    BAR_NAMES,
    EURUSD,
    H1,
    M1,
    SMA,
    START,
    TICKS,
    body,
    config,
)
from tests.support.data_standin import DataStandIn


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("ticks"), tick_chunk=100_000)


@pytest.fixture(scope="module")
def client(settings: BacktestingSettings) -> Iterator[TestClient]:
    store = {("EURUSD", "H1"): H1, ("EURUSD", "M1"): M1, ("GBPUSD", "H1"): H1}
    with DataStandIn(settings, store, ticks={"EURUSD": TICKS}), open_client(settings) as c:
        yield c


def _expected(ticks: TickColumns, model: Model) -> dict[str, list[float]]:
    bars = {name: H1[name] for name in BAR_NAMES}
    result = run_tick_backtest(
        bars, ticks, 3600, build_strategy("sma_crossover", SMA["params"]), config(model)
    )
    assert result.tick_times is not None
    return {
        "entry_price": result.trades.entry_price.tolist(),
        "exit_price": result.trades.exit_price.tolist(),
        "entry_time_msc": result.tick_times[0].tolist(),
        "exit_reason": result.trades.exit_reason.tolist(),
    }


@pytest.mark.parametrize("model", ["ticks", "m1_ohlc"])
def test_backtest_tick_models_read_the_data_service_and_equal_an_in_process_run(
    client: TestClient, model: str
) -> None:
    job = run_to_end(client, "/backtest/start", body("EURUSD", model), "/backtest/{id}/status")
    result = client.get(f"/backtest/{job['id']}/result").json()

    ticks = (
        TickColumns.of(TICKS)
        if model == "ticks"
        else m1_ticks({n: M1[n] for n in ("time", "open", "high", "low", "close", "spread")}, EURUSD.point)
    )
    expected = _expected(ticks, Model(model))
    assert job["state"] == "completed", job["error"]
    assert job["params"]["config"]["model"] == model
    assert {name: result["trades"][name] for name in expected} == expected
    assert len(expected["entry_price"]) > 5 and {"stop_loss", "take_profit"} <= set(expected["exit_reason"])


def test_backtest_ticks_model_without_stored_ticks_is_409_naming_the_range(client: TestClient) -> None:
    before = client.get("/backtests").json()

    response = client.post("/backtest/start", json=body("GBPUSD", "ticks"))

    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "no_ticks"
    assert "GBPUSD" in error["message"] and "2024-01-01T00:00:00Z.." in error["message"]
    assert error["details"]["from"] == START * 1000
    assert client.get("/backtests").json() == before


def test_backtest_unknown_model_is_422_naming_the_field(client: TestClient) -> None:
    response = client.post("/backtest/start", json=body("EURUSD", "every_tick"))

    assert response.status_code == 422
    assert "model" in response.text


def test_backtest_tick_model_with_inline_bars_is_422_naming_model(client: TestClient) -> None:
    body = {**SMA, "bars": json_bars(200), "model": "ticks"}

    response = client.post("/backtest/start", json=body)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["field"] == "model"


def test_backtest_stop_distances_in_the_bars_model_are_422(client: TestClient) -> None:
    body = {**SMA, "bars": json_bars(200), "sl_points": 100}

    response = client.post("/backtest/start", json=body)

    assert response.status_code == 422
    assert "sl_points" in response.text


def test_backtest_tick_model_with_fill_this_close_is_422(client: TestClient) -> None:
    response = client.post("/backtest/start", json={**body("EURUSD", "m1_ohlc"), "fill": "this_close"})

    assert response.status_code == 422
    assert "this_close" in response.text


def test_backtest_ticks_beyond_max_ticks_are_422_naming_the_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_ticks=50_000, tick_chunk=20_000)
    store = {("EURUSD", "H1"): H1}
    with DataStandIn(settings, store, ticks={"EURUSD": TICKS}), open_client(settings) as client:
        response = client.post("/backtest/start", json=body("EURUSD", "ticks"))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "too_many_ticks" and "backtesting.max_ticks" in error["message"]
    assert list((settings.jobs_db_path.parent / "bars").iterdir()) == []
