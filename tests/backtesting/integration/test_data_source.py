"""Backtests whose bars come over HTTP from a (stand-in) data service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.backtesting.core import BacktestConfig, SymbolFacts, run_backtest
from services.backtesting.settings import BacktestingSettings
from shared.market.records import RATES_DTYPE
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.trading import SizingConfig, SizingMode, build_strategy
from tests.backtesting.api.conftest import make_settings, open_client, run_to_end
from tests.support.data_standin import DataStandIn

START = 1_704_067_200  # 2024-01-01T00:00:00Z
N = 1500
GAP = (START + 100 * 3600, START + 106 * 3600)
SMA = {"strategy": "sma_crossover", "params": {"fast": 10, "slow": 20}}
SIZING = {"mode": "fixed", "value": 0.1}


def _rates(base: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    close = base * np.exp(np.cumsum(rng.normal(0, 0.001, N)))
    out = np.zeros(N, dtype=RATES_DTYPE)
    out["time"] = START + 3600 * np.arange(N)
    out["open"] = np.r_[base, close[:-1]]
    out["close"] = close
    out["high"] = np.maximum(out["open"], close) + 0.0002
    out["low"] = np.minimum(out["open"], close) - 0.0002
    out["spread"] = 12
    return out


BARS = {"EURUSD": _rates(1.085, 1), "GBPUSD": _rates(1.265, 2)}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def client(settings: BacktestingSettings) -> Iterator[TestClient]:
    store = {(symbol, "H1"): bars for symbol, bars in BARS.items()}
    with DataStandIn(settings, store, {("GBPUSD", "H1"): [GAP]}), open_client(settings) as c:
        yield c


def _window(symbol: str) -> dict[str, object]:
    return {"symbol": symbol, "timeframe": "H1", "from": START, "to": START + (N - 1) * 3600}


def test_backtest_bars_from_the_data_service_equal_an_in_process_run(client: TestClient) -> None:
    body = {**SMA, **_window("EURUSD"), "sizing": SIZING, "costs": {"spread_from_bars": True}}
    body["initial_balance"] = 100_000  # 0.1 lot of EURUSD is ~10,850 USD of notional at leverage 1

    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")
    result = client.get(f"/backtest/{job['id']}/result", params={"max_points": N}).json()

    rates = BARS["EURUSD"]
    eurusd = next(s for s in DEFAULT_SYMBOLS if s.name == "EURUSD")  # the mt5 service is not running
    expected = run_backtest(
        {name: rates[name] for name in ("time", "open", "high", "low", "close", "tick_volume", "spread")},
        build_strategy("sma_crossover", SMA["params"]),
        BacktestConfig(
            initial_balance=100_000,
            sizing=SizingConfig(mode=SizingMode.FIXED, value=0.1),
            costs={"spread_from_bars": True},
            symbol=SymbolFacts.from_spec(eurusd),
        ),
    )
    assert job["state"] == "completed", job["error"]
    assert job["params"]["source"] == "data" and job["params"]["bars"] == N
    assert result["trades"]["pnl"] == pytest.approx(expected.trades.pnl.tolist())
    assert result["metrics"]["equity_final"] == pytest.approx(expected.metrics.equity_final)
    assert len(expected.trades) > 10 and set(result["trades"]["size"]) == {-0.1, 0.1}


def test_backtest_incomplete_history_names_the_missing_ranges_and_persists_nothing(
    client: TestClient, settings: BacktestingSettings
) -> None:
    before = client.get("/backtests").json()

    response = client.post("/backtest/start", json={**SMA, **_window("GBPUSD")})

    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "history_incomplete"
    assert "2024-01-05T04:00:00Z..2024-01-05T10:00:00Z" in error["message"]
    assert error["details"]["missing"] == [list(GAP)]
    assert client.get("/backtests").json() == before
    assert list((settings.jobs_db_path.parent / "bars").iterdir()) == []


def test_backtest_allow_gaps_runs_on_incomplete_history(client: TestClient) -> None:
    body = {**SMA, **_window("GBPUSD"), "allow_gaps": True, "sizing": SIZING, "initial_balance": 100_000}

    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")

    assert job["state"] == "completed", job["error"]


def test_backtest_symbol_the_data_service_does_not_know_is_404(client: TestClient) -> None:
    response = client.post("/backtest/start", json={**SMA, **_window("USDJPY")})

    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_symbol"


def test_backtest_with_the_data_service_down_is_503_and_persists_nothing(tmp_path: Path) -> None:
    with open_client(make_settings(tmp_path)) as client:
        response = client.post("/backtest/start", json={**SMA, **_window("EURUSD")})
        listed = client.get("/backtests").json()

    assert response.status_code == 503 and response.json()["error"]["code"] == "data_unavailable"
    assert listed == []
