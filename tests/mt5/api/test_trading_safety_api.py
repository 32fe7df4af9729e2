"""Safety through HTTP: client order ids, risk rules, the kill switch and the live-trading gate."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.mt5.core.risk_guard import LIVE_CONFIRM_ENV
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, error_of, mt5_client, mt5_config

RISK = {"allowed_symbols": ["EURUSD", "GBPUSD"], "max_volume_per_order": 1.0, "max_open_positions": 3}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    with mt5_client(mt5_config(tmp_path, risk=RISK), ManualClock(WEDNESDAY_MS)) as client:
        yield client


def test_same_client_order_id_twice_returns_the_first_result_and_opens_once(client: TestClient) -> None:
    first = buy(client, 0.1, client_order_id="strategy-7-entry-1")
    again = buy(client, 0.1, client_order_id="strategy-7-entry-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["client_order_id"] == "strategy-7-entry-1"
    assert len(client.get("/positions").json()) == 1
    other = buy(client, 0.1, client_order_id="strategy-7-entry-2")
    assert other.json()["deal"] != first.json()["deal"]
    assert len(client.get("/positions").json()) == 2


def test_client_order_id_reused_for_another_order_returns_409(client: TestClient) -> None:
    buy(client, 0.1, client_order_id="id-1")
    response = buy(client, 0.2, client_order_id="id-1")
    assert response.status_code == 409
    assert error_of(response)["code"] == "client_order_id_reused"
    assert len(client.get("/positions").json()) == 1


def test_close_with_client_order_id_closes_once(client: TestClient) -> None:
    ticket = buy(client, 0.3).json()["order"]
    for _ in range(2):
        response = client.post(
            f"/positions/{ticket}/close", json={"volume": 0.1, "client_order_id": "close-1"}
        )
        assert response.status_code == 200
    assert client.get("/positions").json()[0]["volume"] == 0.2


@pytest.mark.parametrize(
    ("order", "rule"),
    [
        ({"symbol": "EURUSD", "volume": 1.5}, "max_volume_per_order"),
        ({"symbol": "XAUUSD", "volume": 0.1}, "allowed_symbols"),
    ],
)
def test_risk_rule_refusal_returns_403_naming_the_rule(
    client: TestClient, order: dict[str, object], rule: str
) -> None:
    response = client.post("/orders", json={"type": "BUY", **order})
    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["details"]["rule"]) == ("risk_rule_violated", rule)
    assert client.get("/positions").json() == []


def test_max_open_positions_counts_positions_and_pending_orders(client: TestClient) -> None:
    bid = client.get("/symbols/EURUSD/tick").json()["bid"]
    assert buy(client).status_code == buy(client).status_code == 200
    pending = {"symbol": "EURUSD", "type": "SELL_LIMIT", "volume": 0.1, "price": round(bid + 0.01, 5)}
    assert client.post("/orders", json=pending).status_code == 200
    refused = buy(client)
    assert refused.status_code == 403 and error_of(refused)["details"]["rule"] == "max_open_positions"
    check = client.post("/orders/check", json={"symbol": "EURUSD", "type": "BUY", "volume": 0.1}).json()
    assert check["risk_violation"]["rule"] == "max_open_positions"


def test_kill_switch_refuses_new_risk_but_allows_closing_and_survives_a_restart(tmp_path: Path) -> None:
    settings = mt5_config(tmp_path)
    with mt5_client(settings, ManualClock(WEDNESDAY_MS)) as client:
        ticket = buy(client).json()["order"]
        halted = client.post("/trading/halt", json={"reason": "drawdown"}).json()
        assert (halted["halted"], halted["reason"]) == (True, "drawdown")
        refused = buy(client)
        assert refused.status_code == 403
        assert (error_of(refused)["code"], error_of(refused)["details"]["rule"]) == (
            "trading_halted",
            "kill_switch",
        )
    with mt5_client(settings, ManualClock(WEDNESDAY_MS + 1000)) as client:
        assert client.get("/health").json()["checks"]["trading"]["halted"] is True
        assert buy(client).status_code == 403
        assert client.post(f"/positions/{ticket}/close").status_code == 200
        resumed = client.post("/trading/resume").json()
        assert resumed["halted"] is False and client.get("/trading/status").json()["halted"] is False
        assert buy(client).status_code == 200


def test_trading_status_reports_mode_limits_and_backend(client: TestClient) -> None:
    status = client.get("/trading/status").json()
    assert (status["mode"], status["live_allowed"], status["backend"]) == ("paper", False, "simulated")
    assert status["limits"]["max_volume_per_order"] == 1.0
    assert sorted(status["limits"]["allowed_symbols"]) == ["EURUSD", "GBPUSD"]


@pytest.mark.parametrize(("mode", "says"), [("paper", '"paper"'), ("live", LIVE_CONFIRM_ENV)])
def test_real_terminal_without_live_confirmation_refuses_orders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, says: str
) -> None:
    monkeypatch.delenv(LIVE_CONFIRM_ENV, raising=False)
    monkeypatch.setenv("MT5P_TRADING__MODE", mode)
    settings = mt5_config(tmp_path, adapter="metatrader5")
    with mt5_client(settings) as client:
        response = buy(client)
        health = client.get("/health").json()
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "live_trading_disabled" and says in error["message"]
    terminal = health["checks"]["terminal"]
    assert health["status"] == "degraded"
    assert (terminal["ok"], terminal["backend"], terminal["state"]) == (False, "metatrader5", "lost")
