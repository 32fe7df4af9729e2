"""Prices, SL and TP: off the symbol's grid or absurdly far from the market they are refused, never moved;
extreme numbers never make a money route answer 500 (findings 3, 5 and 9 of the adversarial test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, error_of, mt5_client, mt5_config

EXTREMES = [1e300, 1e308, -1e308]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    with mt5_client(mt5_config(tmp_path), ManualClock(WEDNESDAY_MS)) as client:
        yield client


def book(client: TestClient) -> tuple[Any, ...]:
    """Everything an accepted request could change."""
    return (
        client.get("/positions").json(),
        client.get("/orders").json(),
        client.get("/history/deals", params={"from": 0}).json(),
    )


def pending(client: TestClient, order_type: str = "BUY_LIMIT", **extra: Any) -> Any:
    return client.post("/orders", json={"symbol": "EURUSD", "type": order_type, "volume": 0.1, **extra})


def test_batch_item_with_extreme_sl_answers_in_its_place_and_the_rest_still_go(client: TestClient) -> None:
    item = {"kind": "order", "symbol": "EURUSD", "type": "BUY", "volume": 0.1}
    answer = client.post("/orders/batch", json={"requests": [item, {**item, "sl": 1e300}, item]})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [200, 422, 200]
    assert results[1]["error"]["details"]["field"] == "sl"
    assert len(client.get("/positions").json()) == 2


@pytest.mark.parametrize("value", EXTREMES)
@pytest.mark.parametrize("field", ["sl", "tp", "price"])
def test_extreme_price_fields_on_every_money_route_are_refused_not_500(
    client: TestClient, field: str, value: float
) -> None:
    ticket = buy(client).json()["order"]
    limit = pending(client, price=1.05).json()["order"]
    before = book(client)
    answers = [
        buy(client, **{field: value}),
        client.post("/orders", json={"symbol": "EURUSD", "type": "SELL", "volume": 0.1, field: value}),
        pending(client, **{"price": 1.05, field: value}),
        client.patch(f"/orders/{limit}", json={field: value}),
    ]
    if field != "price":
        answers.append(client.patch(f"/positions/{ticket}", json={field: value}))
    for answer in answers:
        assert 400 <= answer.status_code < 500, answer.text
        assert error_of(answer)["details"]["field"] == field
    check = client.post(
        "/orders/check", json={"symbol": "EURUSD", "type": "BUY", "volume": 0.1, field: value}
    )
    assert check.status_code == 200 and check.json()["retcode"] in (10015, 10016), check.text
    assert book(client) == before


def test_pending_price_off_the_grid_is_refused_not_rounded(client: TestClient) -> None:
    answer = pending(client, price=1.0000001)
    assert answer.status_code == 422, answer.text
    error = error_of(answer)
    assert (error["details"]["retcode"], error["details"]["field"]) == (10015, "price")
    assert client.get("/orders").json() == []


@pytest.mark.parametrize("field", ["sl", "tp"])
def test_stop_off_the_grid_is_refused_not_rounded_away(client: TestClient, field: str) -> None:
    value = 1e-300 if field == "sl" else 1.5000001
    answer = buy(client, **{field: value})
    assert answer.status_code == 422, answer.text
    assert (error_of(answer)["details"]["retcode"], error_of(answer)["details"]["field"]) == (10016, field)
    assert client.get("/positions").json() == []


def test_modify_with_a_subnormal_sl_is_refused_and_keeps_the_stop(client: TestClient) -> None:
    ticket = buy(client, sl=1.1).json()["order"]
    answer = client.patch(f"/positions/{ticket}", json={"sl": 1e-300})
    assert answer.status_code == 422, answer.text
    assert client.get("/positions").json()[0]["sl"] == 1.1


def test_sell_with_a_stop_absurdly_far_above_is_refused(client: TestClient) -> None:
    answer = client.post("/orders", json={"symbol": "EURUSD", "type": "SELL", "volume": 0.1, "sl": 1e20})
    assert answer.status_code == 422, answer.text
    assert (error_of(answer)["code"], error_of(answer)["details"]["field"]) == ("invalid_stops", "sl")
    assert client.get("/positions").json() == []


def test_the_distance_bound_is_a_config_key(tmp_path: Path) -> None:
    settings = mt5_config(tmp_path, max_price_distance_fraction=0.01)
    with mt5_client(settings, ManualClock(WEDNESDAY_MS)) as client:
        assert pending(client, price=1.05).status_code == 422  # ~6% below the market
        assert pending(client, price=1.11).status_code == 200  # within 1%


def test_negative_price_is_refused_saying_it_is_negative(client: TestClient) -> None:
    answer = pending(client, price=-1)
    assert answer.status_code == 422, answer.text
    assert "negative" in error_of(answer)["message"] and error_of(answer)["details"]["field"] == "price"


def test_valid_pending_order_with_stops_on_the_grid_is_placed_at_its_price(client: TestClient) -> None:
    answer = pending(client, price=1.05, sl=1.04, tp=1.06)
    assert answer.status_code == 200, answer.text
    placed = client.get("/orders").json()[0]
    assert (placed["price_open"], placed["sl"], placed["tp"]) == (1.05, 1.04, 1.06)


def test_batch_item_hitting_an_unexpected_error_answers_500_in_its_place_only(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = client.app.state.gateway.terminal  # type: ignore[attr-defined]
    order_send = terminal.order_send

    def failing_on_two_tenths(request: dict[str, Any]) -> Any:
        if request.get("volume") == 0.2:  # fault injection: a bug below the desk
            raise RuntimeError("injected")
        return order_send(request)

    monkeypatch.setattr(terminal, "order_send", failing_on_two_tenths)
    item = {"kind": "order", "symbol": "EURUSD", "type": "BUY", "volume": 0.1}
    answer = client.post("/orders/batch", json={"requests": [item, {**item, "volume": 0.2}, item]})
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [200, 500, 200]
    assert results[1]["error"]["code"] == "internal_error"
    assert len(client.get("/positions").json()) == 2
