"""Property tests of the money routes with extreme numbers (beyond schemathesis' defaults): whatever the
floats and ints, never a 5xx, always the one error shape on refusal, and nothing traded when refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, mt5_client, mt5_config

EXTREME_FLOATS = [1e308, -1e308, 1e300, 1e-300, -1e-300, 5e-324, 2.2250738585072014e-308, -0.0, 0.0, 1e20]
# Python's json writes NaN and Infinity, and the service's JSON parser reads them: they must be refused too.
NON_FINITE = [float("nan"), float("inf"), float("-inf")]
numbers = st.one_of(
    st.sampled_from(EXTREME_FLOATS + NON_FINITE),
    st.floats(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), 2**64]),
    st.floats(min_value=1.0, max_value=1.2),  # near the market: sometimes valid, mostly off the grid
)
PRICE_FIELDS = ["price", "sl", "tp", "stoplimit"]
ORDER_TYPES = ["BUY", "SELL", "BUY_LIMIT", "SELL_LIMIT", "BUY_STOP", "SELL_STOP"]
PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings_ = mt5_config(Path(tmp_path_factory.mktemp("mt5")), risk={"max_open_positions": 100_000})
    with mt5_client(settings_, ManualClock(WEDNESDAY_MS)) as client:
        yield client


def send(client: TestClient, method: str, path: str, body: dict[str, Any]) -> Any:
    # Serialised by hand: httpx's json= refuses NaN and Infinity, which the service must still handle.
    content = json.dumps(body)
    return client.request(method, path, content=content, headers={"Content-Type": "application/json"})


def book(client: TestClient) -> tuple[Any, ...]:
    return (
        client.get("/positions").json(),
        client.get("/orders").json(),
        len(client.get("/history/deals", params={"from": 0}).json()),
    )


def assert_answer(answer: Any) -> None:
    """Never a 5xx; a refusal carries exactly the platform's error shape naming what is wrong."""
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        body = answer.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
    assert b"Traceback" not in answer.content


def assert_refusal_changes_nothing(client: TestClient, method: str, path: str, body: dict[str, Any]) -> None:
    before = book(client)
    answer = send(client, method, path, body)
    assert_answer(answer)
    if answer.status_code >= 400:
        assert book(client) == before, (body, answer.text)


@st.composite
def order_bodies(draw: st.DrawFn) -> dict[str, Any]:
    fields = draw(st.lists(st.sampled_from([*PRICE_FIELDS, "volume", "deviation"]), min_size=1, unique=True))
    body: dict[str, Any] = {"symbol": "EURUSD", "type": draw(st.sampled_from(ORDER_TYPES)), "volume": 0.1}
    body.update({name: draw(numbers) for name in fields})
    return body


def test_orders_with_extreme_numbers_never_fail_the_server(client: TestClient) -> None:
    @PROPERTY_SETTINGS
    @given(body=order_bodies())
    def run(body: dict[str, Any]) -> None:
        assert_refusal_changes_nothing(client, "POST", "/orders", body)
        assert_answer(send(client, "POST", "/orders/check", body))

    run()


def test_batches_with_extreme_numbers_answer_every_item(client: TestClient) -> None:
    @PROPERTY_SETTINGS
    @given(bodies=st.lists(order_bodies(), min_size=1, max_size=4))
    def run(bodies: list[dict[str, Any]]) -> None:
        answer = send(client, "POST", "/orders/batch", {"requests": [{"kind": "order", **b} for b in bodies]})
        assert_answer(answer)
        if answer.status_code == 200:
            results = answer.json()["results"]
            assert len(results) == len(bodies)
            for outcome in results:
                assert outcome["status"] < 500, outcome
                assert (outcome["result"] is None) == (outcome["status"] >= 400), outcome

    run()


def test_modifying_positions_and_orders_with_extreme_numbers_never_fails_the_server(
    client: TestClient,
) -> None:
    position = buy(client).json()["order"]
    order = client.post(
        "/orders", json={"symbol": "EURUSD", "type": "BUY_LIMIT", "volume": 0.1, "price": 1.05}
    )
    ticket = order.json()["order"]

    @PROPERTY_SETTINGS
    @given(sl=numbers, tp=numbers, price=numbers, volume=numbers)
    def run(sl: Any, tp: Any, price: Any, volume: Any) -> None:
        assert_refusal_changes_nothing(client, "PATCH", f"/positions/{position}", {"sl": sl, "tp": tp})
        assert_refusal_changes_nothing(client, "PATCH", f"/orders/{ticket}", {"price": price, "sl": sl})
        assert_refusal_changes_nothing(
            client, "POST", f"/positions/{position}/close", {"volume": volume, "price": price}
        )

    run()
