"""Paper trading through HTTP: market and pending orders, SL/TP, partial close, MT5 refusals as 4xx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.mt5.core.simulated.market import DeterministicMarket
from shared.market import mt5_constants as mt5
from shared.market.symbols import DEFAULT_SYMBOLS
from tests.mt5.api.support import (
    SATURDAY_MS,
    SEED,
    WEDNESDAY_MS,
    ManualClock,
    buy,
    error_of,
    mt5_client,
    mt5_config,
)

HOUR_MS = 3_600_000


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(WEDNESDAY_MS)


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock) -> TestClient:
    with mt5_client(mt5_config(tmp_path), clock) as client:
        yield client


def book(client: TestClient) -> dict[str, Any]:
    """Everything an order could change."""
    return {
        "positions": client.get("/positions").json(),
        "orders": client.get("/orders").json(),
        "deals": client.get("/history/deals").json(),
        "history_orders": client.get("/history/orders").json(),
        "balance": client.get("/account").json()["balance"],
    }


def test_market_buy_modify_partial_close_and_close(client: TestClient) -> None:
    ask = client.get("/symbols/EURUSD/tick").json()["ask"]
    opened = buy(client, 0.1, deviation=10, comment="api test")
    assert opened.status_code == 200, opened.text
    result = opened.json()
    assert (result["retcode"], result["retcode_name"], result["price"]) == (10009, "DONE", ask)
    (position,) = client.get("/positions").json()
    assert (position["volume"], position["price_open"], position["symbol"]) == (0.1, ask, "EURUSD")
    ticket = position["ticket"]

    sl, tp = round(ask - 0.0050, 5), round(ask + 0.0050, 5)
    modified = client.patch(f"/positions/{ticket}", json={"sl": sl, "tp": tp})
    assert modified.status_code == 200, modified.text
    (position,) = client.get("/positions").json()
    assert (position["sl"], position["tp"]) == (sl, tp)
    assert client.patch(f"/positions/{ticket}", json={"tp": 0}).status_code == 200
    assert client.get("/positions").json()[0][("tp")] == 0.0

    partial = client.post(f"/positions/{ticket}/close", json={"volume": 0.04})
    assert partial.status_code == 200 and partial.json()["volume"] == 0.04
    (position,) = client.get("/positions").json()
    assert position["volume"] == 0.06 and position["ticket"] == ticket

    closed = client.post(f"/positions/{ticket}/close")
    assert closed.status_code == 200 and closed.json()["volume"] == 0.06
    assert client.get("/positions").json() == []
    deals = client.get("/history/deals").json()
    assert [d["entry"] for d in deals] == [
        mt5.DEAL_ENTRY_IN,  # the initial deposit (a BALANCE deal)
        mt5.DEAL_ENTRY_IN,
        mt5.DEAL_ENTRY_OUT,
        mt5.DEAL_ENTRY_OUT,
    ]
    balance = client.get("/account").json()["balance"]
    assert balance == round(10_000 + sum(d["profit"] + d["commission"] for d in deals[1:]), 2)


def test_pending_buy_limit_fills_when_the_replay_clock_reaches_the_price(
    client: TestClient, clock: ManualClock
) -> None:
    ask = client.get("/symbols/EURUSD/tick").json()["ask"]
    future = DeterministicMarket(DEFAULT_SYMBOLS, seed=SEED).ticks(
        "EURUSD", WEDNESDAY_MS + 1, WEDNESDAY_MS + HOUR_MS
    )
    price = round(min(float(future["ask"].min()) + 0.00001, ask - 0.0001), 5)
    placed = client.post(
        "/orders", json={"symbol": "EURUSD", "type": "BUY_LIMIT", "volume": 0.2, "price": price}
    )
    assert placed.status_code == 200, placed.text
    assert placed.json()["retcode_name"] == "PLACED"
    (order,) = client.get("/orders").json()
    assert (order["type"], order["price_open"]) == (mt5.ORDER_TYPE_BUY_LIMIT, price)

    trigger_ms = int(future["time_msc"][np.argmax(future["ask"] <= price)])
    clock.advance_to(trigger_ms - 1)
    assert len(client.get("/orders").json()) == 1 and client.get("/positions").json() == []
    clock.advance_to(trigger_ms)
    (position,) = client.get("/positions").json()
    assert client.get("/orders").json() == []
    assert (position["volume"], position["identifier"]) == (0.2, order["ticket"])
    assert position["price_open"] <= price


def test_pending_order_modify_and_cancel(client: TestClient) -> None:
    bid = client.get("/symbols/EURUSD/tick").json()["bid"]
    placed = client.post(
        "/orders",
        json={"symbol": "EURUSD", "type": "sell_limit", "volume": 0.1, "price": round(bid + 0.01, 5)},
    )
    ticket = placed.json()["order"]
    moved = client.patch(
        f"/orders/{ticket}", json={"price": round(bid + 0.02, 5), "sl": round(bid + 0.03, 5)}
    )
    assert moved.status_code == 200, moved.text
    (order,) = client.get("/orders").json()
    assert (order["price_open"], order["sl"], order["tp"]) == (
        round(bid + 0.02, 5),
        round(bid + 0.03, 5),
        0.0,
    )
    assert client.delete(f"/orders/{ticket}").status_code == 200
    assert client.get("/orders").json() == []
    (finished,) = client.get("/history/orders").json()
    assert (finished["ticket"], finished["state"]) == (ticket, mt5.ORDER_STATE_CANCELED)


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/orders/999", "patch"),
        ("/orders/999", "delete"),
        ("/positions/999", "patch"),
        ("/positions/999/close", "post"),
    ],
)
def test_unknown_ticket_returns_404(client: TestClient, path: str, method: str) -> None:
    response = client.request(method.upper(), path, json={} if method != "delete" else None)
    assert response.status_code == 404
    assert error_of(response)["code"] in ("order_not_found", "position_not_found")


@pytest.mark.parametrize(
    ("order", "status", "retcode", "field"),
    [
        ({"volume": 0.015}, 422, 10014, "volume"),
        ({"volume": 0.0}, 422, 10014, "volume"),
        ({"volume": 0.1, "sl": 9.9}, 422, 10016, "sl"),
        ({"volume": 0.1, "type": "BUY_LIMIT"}, 422, 10015, "price"),
        ({"volume": 0.1, "type": "BUY_STOP", "price": 0.5}, 422, 10015, "price"),
        ({"volume": 10_000.0 - 9_950.0}, 409, 10019, None),
    ],
)
def test_refused_order_returns_4xx_with_retcode_and_changes_nothing(
    client: TestClient, order: dict[str, Any], status: int, retcode: int, field: str | None
) -> None:
    before = book(client)
    response = client.post("/orders", json={"symbol": "EURUSD", "type": "BUY", **order})
    assert response.status_code == status, response.text
    details = error_of(response)["details"]
    assert (details["retcode"], details["field"]) == (retcode, field)
    assert details["retcode_name"] == mt5.TradeRetcode(retcode).name and details["comment"]
    assert book(client) == before


def test_order_on_saturday_returns_409_market_closed(tmp_path: Path) -> None:
    with mt5_client(mt5_config(tmp_path), ManualClock(SATURDAY_MS)) as client:
        response = buy(client)
        assert client.get("/positions").json() == []
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]["retcode"]) == ("market_closed", 10018)


def test_unknown_order_type_returns_422_naming_the_field(client: TestClient) -> None:
    for bad in ("BUY_SOMETIMES", 42):
        response = client.post("/orders", json={"symbol": "EURUSD", "type": bad, "volume": 0.1})
        assert response.status_code == 422
        assert error_of(response)["details"]["errors"][0]["field"] == "body.type"


def test_order_check_reports_the_account_after_the_order_and_sends_nothing(client: TestClient) -> None:
    before = book(client)
    checked = client.post("/orders/check", json={"symbol": "EURUSD", "type": 0, "volume": 1.0})
    assert checked.status_code == 200
    body = checked.json()
    assert (body["retcode"], body["retcode_name"], body["risk_violation"]) == (0, "DONE", None)
    assert body["margin"] > 0 and body["margin_free"] < before["balance"]
    refused = client.post("/orders/check", json={"symbol": "EURUSD", "type": "BUY", "volume": 0.015}).json()
    assert refused["retcode"] == 10014
    assert book(client) == before


# Found by fuzzing: `true` was one lot, Infinity a 500 (decimal rounding), a huge integer a 500 (orjson).
@pytest.mark.parametrize(
    ("raw_body", "field"),
    [
        ('{"symbol": "EURUSD", "volume": true}', "body.volume"),
        ('{"symbol": "EURUSD", "volume": "0.1"}', "body.volume"),
        ('{"symbol": "EURUSD", "volume": 0.1, "sl": Infinity}', "body.sl"),
        ('{"symbol": "EURUSD", "volume": NaN}', "body.volume"),
        ('{"symbol": "EURUSD", "volume": 0.1, "magic": 18446744073709551616}', "body.magic"),
        ('{"symbol": "EURUSD", "volume": 0.1, "type": null}', "body.type"),
        ('{"symbol": "EURUSD", "volume": 0.1, "type": 1e300}', "body.type"),
    ],
)
def test_malformed_order_field_returns_422_naming_it_and_changes_nothing(
    client: TestClient, raw_body: str, field: str
) -> None:
    before = book(client)

    response = client.post("/orders", content=raw_body, headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert error_of(response)["details"]["errors"][0]["field"] == field
    assert book(client) == before


@pytest.mark.parametrize("expiration", [{}, None, False, "someday", 1e30])
def test_order_expiration_that_is_no_time_returns_422_naming_it(client: TestClient, expiration: Any) -> None:
    response = client.post("/orders", json={"symbol": "EURUSD", "volume": 0.1, "expiration": expiration})

    assert response.status_code == 422, response.text
    assert error_of(response)["details"]["errors"][0]["field"] == "body.expiration"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("DELETE", "/orders/99999999999999999999", 422),  # beyond 64 bits: was a 500
        ("POST", "/positions/54447448102697664512/close", 422),
        ("DELETE", "/orders/-1", 404),  # no such ticket
    ],
)
def test_ticket_out_of_range_is_refused_not_a_server_error(
    client: TestClient, method: str, path: str, status: int
) -> None:
    response = client.request(method, path)

    assert response.status_code == status, response.text
    assert set(response.json()) == {"error"}


def test_undeclared_method_on_order_check_is_405_naming_the_allowed_one(client: TestClient) -> None:
    response = client.patch("/orders/check", json={})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert error_of(response)["code"] == "method_not_allowed"
