"""Health, connection, account and terminal endpoints, and the events the service publishes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.market.records import AccountInfo, TerminalInfo
from tests.mt5.api.support import (
    WEDNESDAY_MS,
    ManualClock,
    buy,
    error_of,
    mt5_client,
    mt5_config,
    receive_until,
)


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    with mt5_client(mt5_config(tmp_path), ManualClock(WEDNESDAY_MS)) as client:
        yield client


def test_health_reports_backend_connection_and_trading(client: TestClient) -> None:
    body = client.get("/health", headers={"X-Internal-Token": ""}).json()
    assert body["status"] == "ok" and body["service"] == "mt5"
    terminal, trading = body["checks"]["terminal"], body["checks"]["trading"]
    assert (terminal["ok"], terminal["backend"], terminal["state"]) == (True, "simulated", "connected")
    assert (trading["mode"], trading["halted"]) == ("paper", False)


def test_account_and_terminal_have_mt5_fields(client: TestClient) -> None:
    account = client.get("/account").json()
    assert list(account) == list(AccountInfo._fields)
    assert (account["balance"], account["equity"], account["currency"]) == (10_000.0, 10_000.0, "USD")
    terminal = client.get("/terminal").json()
    assert list(terminal) == list(TerminalInfo._fields) and terminal["connected"] is True


def test_disconnect_makes_calls_fail_fast_with_503_until_connect(client: TestClient) -> None:
    assert client.post("/disconnect").json()["state"] == "disconnected"
    response = client.get("/account")
    assert response.status_code == 503 and error_of(response)["code"] == "terminal_unavailable"
    health = client.get("/health").json()
    assert health["status"] == "degraded" and health["checks"]["terminal"]["state"] == "disconnected"
    assert client.post("/connect").json()["state"] == "connected"
    assert client.get("/account").status_code == 200


def test_requests_without_the_internal_token_are_refused(client: TestClient) -> None:
    response = client.get("/account", headers={"X-Internal-Token": "wrong"})
    assert response.status_code == 401


def test_order_and_position_events_reach_event_stream_subscribers(client: TestClient) -> None:
    with client.websocket_connect("/ws/events?types=order.*,position.*,account.updated") as ws:
        ticket = buy(client).json()["order"]
        filled = receive_until(ws, lambda e: e["type"] == "order.filled")
        opened = receive_until(ws, lambda e: e["type"] == "position.opened")
        client.post(f"/positions/{ticket}/close")
        closed = receive_until(ws, lambda e: e["type"] == "position.closed")
        account = receive_until(ws, lambda e: e["type"] == "account.updated")
    assert filled["data"]["ticket"] == ticket and filled["data"]["symbol"] == "EURUSD"
    assert opened["data"]["ticket"] == closed["data"]["ticket"] == ticket
    assert account["source"] == "mt5" and "balance" in account["data"]


def test_refused_order_publishes_order_rejected_with_symbol(client: TestClient) -> None:
    with client.websocket_connect("/ws/events?types=order.rejected&symbols=EURUSD") as ws:
        buy(client, 0.015)
        rejected = receive_until(ws, lambda e: e["type"] == "order.rejected")
    assert rejected["data"]["retcode"] == 10014 and rejected["data"]["symbol"] == "EURUSD"


def test_tick_events_carry_the_latest_quote_per_symbol(client: TestClient) -> None:
    with client.websocket_connect("/ws/events?types=tick&symbols=GBPUSD") as ws:
        event = receive_until(ws, lambda e: e["type"] == "tick")
    quote = client.get("/symbols/GBPUSD/tick").json()
    assert event["data"] == {"symbol": "GBPUSD", **quote}


def test_connection_changes_are_published(client: TestClient) -> None:
    with client.websocket_connect("/ws/events?types=terminal.connection") as ws:
        client.post("/disconnect")
        event = receive_until(ws, lambda e: e["type"] == "terminal.connection")
    assert (event["data"]["from"], event["data"]["to"], event["data"]["backend"]) == (
        "connected",
        "disconnected",
        "simulated",
    )
