"""The /strategies routes through the app: shapes, bad input as named 4xx, and the lifecycle."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.mt5.api.support import ManualClock

NEW = {"strategy": "sma_crossover", "params": {"fast": 5, "slow": 20}, "symbol": "EURUSD", "timeframe": "M15"}


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_strategies_list_gives_param_schemas_and_instances(client: TestClient) -> None:
    created = client.post("/strategies", json=NEW).json()
    body = client.get("/strategies").json()
    names = {s["name"] for s in body["strategies"]}
    assert {"sma_crossover", "donchian_breakout"} <= names
    schema = next(s for s in body["strategies"] if s["name"] == "sma_crossover")["params_schema"]
    assert {"fast", "slow"} <= set(schema["properties"])
    assert [i["id"] for i in body["instances"]] == [created["id"]]


def test_strategies_create_returns_stopped_instance_with_magic(client: TestClient) -> None:
    response = client.post("/strategies", json={**NEW, "sizing": {"mode": "risk_percent", "value": 1}})
    assert response.status_code == 201
    body = response.json()
    assert (body["state"], body["symbol"], body["timeframe"]) == ("stopped", "EURUSD", "M15")
    assert body["sizing"] == {"mode": "risk_percent", "value": 1.0}
    assert body["magic"] == 20_240_000


def test_strategies_bad_input_is_named_4xx(client: TestClient) -> None:
    cases = [
        ({**NEW, "strategy": "nope"}, 404, "unknown_strategy"),
        ({**NEW, "params": {"fast": 30, "slow": 20}}, 422, "invalid_params"),
        ({**NEW, "symbol": "DOGEUSD"}, 422, "unknown_symbol"),
        ({**NEW, "timeframe": "M7"}, 422, "unknown_timeframe"),
        ({**NEW, "sizing": {"mode": "all_in", "value": 1}}, 422, "invalid_sizing"),
        ({**NEW, "sizing": {"mode": "fixed", "value": -1}}, 422, "validation_error"),
        ({**NEW, "risk": {"sl_points": 10, "sl_atr": 2}}, 422, "validation_error"),
        ({**NEW, "colour": "red"}, 422, "validation_error"),
    ]
    for body, status, code in cases:
        response = client.post("/strategies", json=body)
        assert (response.status_code, error_of(response)["code"]) == (status, code), body
    assert client.get("/strategies").json()["instances"] == []


def test_strategies_validation_error_names_field(client: TestClient) -> None:
    error = error_of(client.post("/strategies", json={**NEW, "params": {"fast": 30, "slow": 20}}))
    assert error["details"]["errors"][0]["field"] == "fast"
    error = error_of(client.post("/strategies", json={**NEW, "risk": {"max_open_positions": 0}}))
    assert "risk.max_open_positions" in error["message"]


def test_strategies_absurd_stop_distance_is_422_naming_the_field(client: TestClient) -> None:
    for field in ("sl_points", "tp_points"):
        response = client.post("/strategies", json={**NEW, "risk": {field: 1e308}})
        assert (response.status_code, error_of(response)["code"]) == (422, "validation_error"), response.text
        assert f"risk.{field}" in error_of(response)["message"]
    assert client.get("/strategies").json()["instances"] == []
    assert (
        client.post("/strategies", json={**NEW, "risk": {"sl_points": 500, "tp_points": 1000}}).status_code
        == 201
    )


def test_strategies_unknown_instance_is_404(client: TestClient) -> None:
    for method, path in [("GET", "/strategies/abcdef12"), ("POST", "/strategies/abcdef12/start")]:
        response = client.request(method, path)
        assert (response.status_code, error_of(response)["code"]) == (404, "instance_not_found")


def test_strategies_start_without_mt5_is_503_and_changes_nothing(client: TestClient) -> None:
    created = client.post("/strategies", json=NEW).json()
    response = client.post(f"/strategies/{created['id']}/start")
    assert (response.status_code, error_of(response)["code"]) == (503, "mt5_unavailable")
    assert client.get(f"/strategies/{created['id']}").json()["state"] == "stopped"


def test_strategies_patch_only_params_sizing_risk(client: TestClient) -> None:
    created = client.post("/strategies", json=NEW).json()
    response = client.patch(f"/strategies/{created['id']}", json={"symbol": "GBPUSD"})
    assert response.status_code == 422
    response = client.patch(f"/strategies/{created['id']}", json={"params": {"fast": 3, "slow": 7}})
    assert response.json()["params"] == {"fast": 3, "slow": 7}
    response = client.patch(f"/strategies/{created['id']}", json={"params": {"fast": 9, "slow": 7}})
    assert error_of(response)["code"] == "invalid_params"


def test_strategies_lifecycle_with_real_mt5(client: TestClient, mt5_service: ManualClock) -> None:
    created = client.post("/strategies", json=NEW).json()
    path = f"/strategies/{created['id']}"
    started = client.post(f"{path}/start")
    assert (started.status_code, started.json()["state"]) == (200, "running")
    again = client.post(f"{path}/start")
    assert (again.status_code, error_of(again)["code"]) == (409, "already_running")
    edit = client.patch(path, json={"params": {"fast": 3, "slow": 7}})
    assert (edit.status_code, error_of(edit)["code"]) == (409, "instance_running")
    delete = client.delete(path)
    assert (delete.status_code, error_of(delete)["code"]) == (409, "instance_running")
    detail = client.get(path).json()
    assert (detail["state"], detail["positions"], detail["orders"]) == ("running", [], [])
    assert client.get("/health").json()["checks"]["instances"] == {"running": 1}
    assert client.post(f"{path}/stop", json={"reason": "maintenance"}).json()["reason"] == "maintenance"
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404


def test_strategies_create_takes_names_in_any_case_and_answers_upper_case(client: TestClient) -> None:
    created = client.post("/strategies", json={**NEW, "symbol": "eurusd", "timeframe": "m15"}).json()

    assert (created["symbol"], created["timeframe"]) == ("EURUSD", "M15")


def test_strategies_unknown_timeframe_is_unknown_timeframe_naming_the_field(client: TestClient) -> None:
    error = error_of(client.post("/strategies", json={**NEW, "timeframe": "M7"}))

    assert (error["code"], error["details"]["field"]) == ("unknown_timeframe", "body.timeframe")


def test_strategies_signals_of_a_new_instance_is_an_empty_log(client: TestClient) -> None:
    created = client.post("/strategies", json=NEW).json()

    response = client.get(f"/strategies/{created['id']}/signals", params={"limit": 5})

    assert (response.status_code, response.json()) == (200, [])


def test_strategies_signals_unknown_instance_is_404(client: TestClient) -> None:
    response = client.get("/strategies/abcdef12/signals")

    assert (response.status_code, error_of(response)["code"]) == (404, "instance_not_found")


@pytest.mark.parametrize("limit", ["0", "-1", "x", "10001"])
def test_strategies_signals_bad_limit_is_422_naming_limit(client: TestClient, limit: str) -> None:
    created = client.post("/strategies", json=NEW).json()

    response = client.get(f"/strategies/{created['id']}/signals", params={"limit": limit})

    assert response.status_code == 422, response.text
    assert "limit" in str(error_of(response)["details"])
