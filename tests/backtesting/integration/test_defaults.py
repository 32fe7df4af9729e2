"""Run defaults that trade, and warnings that say why a run traded little or nothing (issue 16).

Bars are the simulated market's EURUSD H1 for the README's five months, served by a stand-in data service;
a stand-in mt5 service answers `/account` (leverage 1:100, as the paper account) and `/symbols/EURUSD`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.backtesting.settings import BacktestingSettings
from services.mt5.core.simulated.market import DeterministicMarket
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import get_timeframe
from tests.backtesting.api.conftest import make_settings, open_client, run_to_end
from tests.support.data_standin import DataStandIn
from tests.support.served_app import ServedApp

FROM, TO = "2026-06-01T00:00:00Z", "2026-11-01T00:00:00Z"
FROM_S, TO_S = 1_780_272_000, 1_793_491_200
MINIMAL = {"strategy": "sma_crossover", "symbol": "EURUSD", "timeframe": "H1", "from": FROM, "to": TO}
EURUSD = next(s for s in DEFAULT_SYMBOLS if s.name == "EURUSD")
ACCOUNT_LEVERAGE = 100


def mt5_standin_app() -> FastAPI:
    app = FastAPI()

    @app.get("/account")
    def account() -> dict[str, Any]:
        return {"login": 1, "balance": 10_000.0, "leverage": ACCOUNT_LEVERAGE, "currency": "USD"}

    @app.get("/symbols/{symbol}")
    def symbol(symbol: str) -> dict[str, Any]:
        return {
            "name": symbol,
            "point": EURUSD.point,
            "trade_tick_size": EURUSD.trade_tick_size,
            "trade_tick_value": EURUSD.contract_size * EURUSD.trade_tick_size,
            "trade_contract_size": EURUSD.contract_size,
            "volume_min": EURUSD.volume_min,
            "volume_step": EURUSD.volume_step,
            "volume_max": EURUSD.volume_max,
        }

    return app


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("defaults"))


@pytest.fixture(scope="module")
def client(settings: BacktestingSettings) -> Iterator[TestClient]:
    market = DeterministicMarket(DEFAULT_SYMBOLS)
    rates = market.rates_range("EURUSD", get_timeframe("H1"), FROM_S, TO_S, TO_S * 1000 + 1)
    data = DataStandIn(settings, {("EURUSD", "H1"): rates})
    mt5 = ServedApp("mt5 stand-in", mt5_standin_app(), settings.service("mt5").port)
    with data, mt5, open_client(settings) as c:
        yield c


def _result(client: TestClient, job: dict[str, Any]) -> dict[str, Any]:
    assert job["state"] == "completed", job["error"]
    return client.get(f"/backtest/{job['id']}/result").json()


def test_backtest_minimal_request_trades_with_the_account_leverage(client: TestClient) -> None:
    job = run_to_end(client, "/backtest/start", MINIMAL, "/backtest/{id}/status")

    result = _result(client, job)
    assert result["metrics"]["trades"] > 20
    assert job["params"]["config"]["leverage"] == ACCOUNT_LEVERAGE
    assert job["params"]["config"]["sizing"] == {"mode": "equity_fraction", "value": 1.0}
    assert set(np.abs(result["trades"]["size"])) <= {0.08, 0.09}  # 10,000 USD of EURUSD at ~1.1-1.2
    assert result["warnings"] == []


def test_backtest_defaults_endpoint_names_the_account_leverage_and_the_symbol_facts(
    client: TestClient,
) -> None:
    defaults = client.get("/backtest/defaults", params={"symbol": "EURUSD"}).json()

    assert defaults["leverage"] == ACCOUNT_LEVERAGE and defaults["leverage_source"] == "account"
    assert defaults["sizing"] == {"mode": "equity_fraction", "value": 1.0}
    assert defaults["symbol_facts"]["volume_min"] == EURUSD.volume_min


def test_backtest_risk_percent_on_a_strategy_without_stop_is_422_and_stores_nothing(
    client: TestClient,
) -> None:
    before = client.get("/backtests").json()

    response = client.post(
        "/backtest/start", json={**MINIMAL, "sizing": {"mode": "risk_percent", "value": 1}}
    )

    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "invalid_sizing"
    assert error["details"]["field"] == "sizing.mode" and "stop-loss" in error["message"]
    assert client.get("/backtests").json() == before


def test_backtest_risk_percent_on_a_strategy_with_a_stop_trades(client: TestClient) -> None:
    body = {**MINIMAL, "strategy": "donchian_breakout", "sizing": {"mode": "risk_percent", "value": 1}}

    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")

    assert _result(client, job)["metrics"]["trades"] > 5


def test_backtest_size_below_the_minimum_volume_warns_with_counts(client: TestClient) -> None:
    body = {**MINIMAL, "sizing": {"mode": "fixed", "value": 0.001}}

    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")

    warnings = {w["code"]: w for w in _result(client, job)["warnings"]}
    assert warnings["volume_below_minimum"]["count"] > 20
    assert "minimum volume (0.01)" in warnings["volume_below_minimum"]["message"]
    assert warnings["no_trades"]["message"].startswith("the run made no trades")


def test_backtest_margin_too_small_warns_with_counts(client: TestClient) -> None:
    body = {**MINIMAL, "leverage": 1, "sizing": {"mode": "fixed", "value": 1}}

    job = run_to_end(client, "/backtest/start", body, "/backtest/{id}/status")

    warnings = {w["code"]: w for w in _result(client, job)["warnings"]}
    assert warnings["insufficient_margin"]["count"] > 20


def test_optimize_all_combinations_without_trades_says_so(client: TestClient) -> None:
    body = {
        **MINIMAL,
        "sizing": {"mode": "fixed", "value": 0.001},
        "space": {"fast": {"min": 5, "max": 15, "step": 5}, "slow": {"min": 20, "max": 40, "step": 10}},
        "heatmap": ["fast", "slow"],
    }

    job = run_to_end(client, "/optimize", body, "/optimize/{id}")

    result = client.get(f"/optimize/{job['id']}").json()["result"]
    warnings = {w["code"]: w for w in result["warnings"]}
    assert warnings["no_trades"] == {
        "code": "no_trades",
        "message": "none of the 9 combinations made a trade",
        "count": 9,
    }
    assert warnings["volume_below_minimum"]["count"] > 9


def test_optimize_readme_space_with_defaults_fills_the_heatmap(client: TestClient) -> None:
    body = {
        **MINIMAL,
        "space": {"fast": {"min": 5, "max": 30, "step": 5}, "slow": {"min": 20, "max": 100, "step": 10}},
        "heatmap": ["fast", "slow"],
    }

    job = run_to_end(client, "/optimize", body, "/optimize/{id}")

    result = client.get(f"/optimize/{job['id']}").json()["result"]
    hm = result["heatmap"]
    cells = [  # fast >= slow is refused by the parameter model: those cells stay empty
        v
        for fast, row in zip(hm["x_values"], hm["values"], strict=True)
        for slow, v in zip(hm["y_values"], row, strict=True)
        if fast < slow
    ]
    assert len(cells) == 50 and all(v is not None for v in cells)
    assert result["warnings"] == []


def test_walk_forward_carries_warnings(client: TestClient) -> None:
    body = {
        **MINIMAL,
        "sizing": {"mode": "fixed", "value": 0.001},
        "space": {"fast": {"values": [5, 10]}},
        "params": {"slow": 30},
        "in_sample_bars": 600,
        "out_of_sample_bars": 400,
    }

    job = run_to_end(client, "/walk-forward", body, "/walk-forward/{id}")

    result = client.get(f"/walk-forward/{job['id']}").json()["result"]
    codes = {w["code"] for w in result["warnings"]}
    assert {"volume_below_minimum", "no_trades"} <= codes
    assert all(any(w["code"] == "no_trades" for w in window["warnings"]) for window in result["windows"])
