"""GET /indicators, /indicators/{name} and /patterns: the catalogs, described from TA-Lib's metadata."""

from __future__ import annotations

import talib
from fastapi.testclient import TestClient

from services.pattern.core.catalog import PATTERN_GROUP


def test_list_indicators_every_talib_function_described(client: TestClient) -> None:
    response = client.get("/indicators")

    assert response.status_code == 200
    items = {item["name"]: item for item in response.json()}
    expected = {n for g, ns in talib.get_function_groups().items() if g != PATTERN_GROUP for n in ns}
    assert set(items) == expected
    sma = items["SMA"]
    assert sma["group"] == "Overlap Studies"
    assert sma["inputs"] == [{"name": "price", "column": "close"}]
    assert sma["outputs"] == ["real"]
    (period,) = sma["parameters"]
    assert (period["name"], period["type"], period["default"]) == ("timeperiod", "int", 30)
    assert (period["min"], period["max"]) == (1, 100000)


def test_get_indicator_any_case_returns_its_outputs(client: TestClient) -> None:
    response = client.get("/indicators/macd")

    assert response.status_code == 200
    assert response.json()["outputs"] == ["macd", "macdsignal", "macdhist"]


def test_get_indicator_unknown_is_404_naming_it(client: TestClient) -> None:
    response = client.get("/indicators/NOPE")

    assert response.status_code == 404
    error = response.json()["error"]
    assert (error["code"], error["details"]) == ("unknown_indicator", {"indicator": "NOPE"})


def test_list_patterns_all_61_with_direction(client: TestClient) -> None:
    response = client.get("/patterns")

    assert response.status_code == 200
    items = {item["name"]: item for item in response.json()}
    assert set(items) == set(talib.get_function_groups()[PATTERN_GROUP])
    assert len(items) == 61
    assert items["CDLENGULFING"]["direction"] == "both"
    assert items["CDLHAMMER"]["direction"] == "bullish"
    assert items["CDLHAMMER"]["description"] == "Hammer"


def test_routes_without_internal_token_are_refused(client: TestClient) -> None:
    response = client.get("/patterns", headers={"X-Internal-Token": "wrong"})

    assert response.status_code == 401
