"""Sizing and risk values pydantic's lax mode would coerce (found by the fuzz tests): `{"mode": false}` was
created as fixed sizing. Each is now a 422 naming the field; the documented forms are still accepted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

NEW = {"strategy": "sma_crossover", "params": {"fast": 5, "slow": 20}, "symbol": "EURUSD", "timeframe": "M15"}

COERCED = [
    ({"sizing": {"mode": False, "value": 1}}, "sizing", "mode: expected a number, got a boolean"),
    ({"sizing": {"mode": "fixed", "value": True}}, "sizing", "value: expected a number, got a boolean"),
    ({"sizing": {"mode": "fixed", "value": "1"}}, "sizing", "value: expected a number, got a string"),
    ({"risk": {"atr_period": True}}, "risk", "atr_period: expected a number, got a boolean"),
    ({"risk": {"sl_points": "50"}}, "risk", "sl_points: expected a number, got a string"),
    ({"risk": {"close_on_daily_loss": 1}}, "risk", "close_on_daily_loss: expected a boolean, got a number"),
    (
        {"risk": {"close_on_daily_loss": "no"}},
        "risk",
        "close_on_daily_loss: expected a boolean, got a string",
    ),
]
IDS = ["bool_mode", "bool_value", "string_value", "bool_int", "string_float", "int_bool", "string_bool"]


def _refusal(response: Any) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "validation_error"
    return error


@pytest.mark.parametrize(("change", "field", "message"), COERCED, ids=IDS)
def test_strategies_create_coercible_value_refused(
    client: TestClient, change: dict[str, Any], field: str, message: str
) -> None:
    error = _refusal(client.post("/strategies", json={**NEW, **change}))

    assert error["details"]["errors"][0]["field"] == f"body.{field}"
    assert message in error["message"]
    assert client.get("/strategies").json()["instances"] == []


@pytest.mark.parametrize(("change", "field", "message"), COERCED, ids=IDS)
def test_strategies_patch_coercible_value_refused_instance_unchanged(
    client: TestClient, change: dict[str, Any], field: str, message: str
) -> None:
    created = client.post("/strategies", json=NEW).json()

    error = _refusal(client.patch(f"/strategies/{created['id']}", json=change))

    assert message in error["message"]
    after = client.get(f"/strategies/{created['id']}").json()
    assert (after["sizing"], after["risk"]) == (created["sizing"], created["risk"])


def test_strategies_documented_sizing_and_risk_forms_accepted(client: TestClient) -> None:
    body = {
        **NEW,
        "sizing": {"mode": "risk_percent", "value": 1},  # an integer value
        "risk": {"sl_points": 50, "atr_period": 20, "close_on_daily_loss": False},
    }

    created = client.post("/strategies", json=body)
    renamed = client.patch(
        f"/strategies/{created.json()['id']}", json={"sizing": {"mode": "fixed", "value": 2}}
    )

    assert created.status_code == 201, created.text
    assert created.json()["sizing"] == {"mode": "risk_percent", "value": 1.0}
    assert created.json()["risk"]["close_on_daily_loss"] is False
    assert renamed.json()["sizing"] == {"mode": "fixed", "value": 2.0}


def test_strategies_integer_sizing_mode_is_refused_naming_the_modes(client: TestClient) -> None:
    """The schema documents the modes by name only; an integer code is refused, not read as a hidden alias."""
    response = client.post("/strategies", json={**NEW, "sizing": {"mode": 2, "value": 1}})

    assert response.status_code == 422
    assert "risk_percent" in response.json()["error"]["message"]
