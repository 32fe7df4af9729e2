"""POST /orders/batch: several orders and closes in one call, each exactly as it would go alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, error_of, mt5_client, mt5_config


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    settings = mt5_config(tmp_path, risk={"max_volume_per_order": 1.0})
    with mt5_client(settings, ManualClock(WEDNESDAY_MS)) as client:
        yield client


def order(volume: float = 0.1, **extra: Any) -> dict[str, Any]:
    return {"kind": "order", "symbol": "EURUSD", "type": "BUY", "volume": volume, **extra}


def batch(client: TestClient, *requests: dict[str, Any]) -> Any:
    return client.post("/orders/batch", json={"requests": list(requests)})


def test_orders_and_closes_run_in_order_each_with_its_own_outcome(client: TestClient) -> None:
    held = buy(client, 0.2).json()["order"]
    answer = batch(
        client,
        order(0.1, magic=7, client_order_id="a"),
        {"kind": "close", "ticket": held, "volume": 0.05, "client_order_id": "b"},
        order(0.013),  # not a multiple of the volume step: refused, the rest still go
        {"kind": "close", "ticket": 999_999, "client_order_id": "c"},
        order(0.3, type="SELL"),
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == [200, 200, 422, 404, 200]
    assert results[0]["result"]["client_order_id"] == "a" and results[0]["result"]["volume"] == 0.1
    assert results[1]["result"]["volume"] == 0.05 and results[1]["result"]["client_order_id"] == "b"
    assert results[2]["error"]["code"] == "invalid_volume" and results[2]["result"] is None
    assert results[3]["error"]["code"] == "position_not_found"
    positions = {p["ticket"]: p for p in client.get("/positions").json()}
    assert positions[held]["volume"] == 0.15
    assert sorted(p["volume"] for p in positions.values()) == [0.1, 0.15, 0.3]
    assert next(p for p in positions.values() if p["volume"] == 0.1)["magic"] == 7


def test_a_client_order_id_sent_again_in_a_batch_returns_the_first_result(client: TestClient) -> None:
    first = buy(client, 0.1, client_order_id="once").json()
    again = batch(client, order(0.1, client_order_id="once"), order(0.1, client_order_id="once"))
    assert [r["result"]["order"] for r in again.json()["results"]] == [first["order"], first["order"]]
    reused = batch(client, order(0.2, client_order_id="once")).json()["results"][0]
    assert (reused["status"], reused["error"]["code"]) == (409, "client_order_id_reused")
    assert len(client.get("/positions").json()) == 1


def test_the_risk_guard_and_kill_switch_judge_each_order_of_a_batch(client: TestClient) -> None:
    over_limit = batch(client, order(0.5), order(5.0)).json()["results"]
    assert [r["status"] for r in over_limit] == [200, 403]
    assert over_limit[1]["error"]["code"] == "risk_rule_violated"
    ticket = over_limit[0]["result"]["order"]
    assert client.post("/trading/halt", json={"reason": "test"}).status_code == 200
    halted = batch(client, order(0.1), {"kind": "close", "ticket": ticket}).json()["results"]
    assert [r["status"] for r in halted] == [403, 200]  # closing is still allowed, new risk is not
    assert client.get("/positions").json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"requests": []}, "body.requests"),
        ({"requests": [{"symbol": "EURUSD", "volume": 0.1}]}, "body.requests.0"),
        ({"requests": [order(), {"kind": "close"}]}, "body.requests.1.close.ticket"),
        ({"requests": [order(volume=True)]}, "body.requests.0.order.volume"),
        ({"requests": [order()] * 101}, "body.requests"),
    ],
)
def test_a_malformed_batch_is_refused_whole_and_nothing_is_sent(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    answer = client.post("/orders/batch", json=body)
    assert answer.status_code == 422, answer.text
    assert field in [error["field"] for error in error_of(answer)["details"]["errors"]]
    assert client.get("/positions").json() == [] and client.get("/history/deals").json()[1:] == []
