"""POST /patterns/detect and POST /chart-patterns/analyze on bars sent in the body."""

from __future__ import annotations

from typing import Any

import numpy as np
import talib
from fastapi.testclient import TestClient

from services.pattern.core.catalog import PATTERN_GROUP
from tests.pattern.api.conftest import engulfing_rates
from tests.pattern.unit.conftest import make_bars
from tests.support.bars import json_columns


def _bars_of(rates: np.ndarray) -> dict[str, list[float]]:
    return {name: rates[name].tolist() for name in ("time", "open", "high", "low", "close")}


def test_detect_textbook_engulfing_found_on_last_bar(client: TestClient) -> None:
    rates = engulfing_rates()

    response = client.post("/patterns/detect", json={"bars": _bars_of(rates), "patterns": "ENGULFING"})

    assert response.status_code == 200
    body = response.json()
    assert body["patterns"] == ["CDLENGULFING"]
    assert body["detections"][-1] == {
        "time": int(rates["time"][-1]),
        "pattern": "CDLENGULFING",
        "label": "CDLENGULFING",
        "direction": "bullish",
        "strength": 100,
    }


def test_detect_all_patterns_by_default_match_talib(client: TestClient) -> None:
    bars = make_bars(400, seed=5)

    response = client.post("/patterns/detect", json={"bars": json_columns(bars)})

    assert response.status_code == 200
    found: dict[str, list[int]] = {}
    for item in response.json()["detections"]:
        found.setdefault(item["pattern"], []).append(item["time"])
    for name in talib.get_function_groups()[PATTERN_GROUP]:
        output = getattr(talib, name)(*(bars[k] for k in ("open", "high", "low", "close")))
        assert found.get(name, []) == bars["time"][output != 0].tolist(), name


def test_detect_unknown_pattern_is_422(client: TestClient) -> None:
    response = client.post(
        "/patterns/detect", json={"bars": _bars_of(engulfing_rates()), "patterns": ["NOPE"]}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_pattern"


def test_detect_without_open_is_422_naming_it(client: TestClient) -> None:
    bars = _bars_of(engulfing_rates())
    del bars["open"]

    response = client.post("/patterns/detect", json={"bars": bars})

    assert response.status_code == 422
    assert response.json()["error"]["details"]["column"] == "open"


def _double_top() -> dict[str, list[float]]:
    """Rise to 110, dip to 100, back to 110, then fall through the 100 neckline (hourly bars)."""
    path = np.concatenate(
        [
            np.linspace(90, 110, 11),
            np.linspace(108, 100, 5),
            np.linspace(102, 110, 5),
            np.linspace(108, 95, 8),
        ]
    )
    time = 1_700_006_400 + 3600 * np.arange(len(path))
    return {
        "time": time.tolist(),
        "open": path.tolist(),
        "high": (path + 0.2).tolist(),
        "low": (path - 0.2).tolist(),
        "close": path.tolist(),
    }


def test_analyze_double_top_found_with_levels_and_pivots(client: TestClient) -> None:
    bars = _double_top()

    response = client.post(
        "/chart-patterns/analyze", json={"bars": bars, "pivot_method": "fibonacci", "pivot_period": "H4"}
    )

    assert response.status_code == 200
    body = response.json()
    (top,) = body["double_tops"]
    assert (top["first_time"], top["second_time"]) == (bars["time"][10], bars["time"][20])
    assert top["peak"] == 110.2
    assert body["swings"]["highs"]["time"] == [bars["time"][10], bars["time"][20]]
    (level,) = body["levels"]
    assert (level["kind"], level["touches"], level["price"]) == ("resistance", 2, 110.2)
    pivots = body["pivots"]
    assert (pivots["method"], pivots["period"]) == ("fibonacci", "H4")
    assert set(pivots["periods"][0]) == {"time", "based_on", "P", "R1", "S1", "R2", "S2", "R3", "S3"}


def test_analyze_bad_options_are_422_naming_the_field(client: TestClient) -> None:
    bad: list[tuple[dict[str, Any], str]] = [
        ({"pivot_method": "magic"}, "body.pivot_method"),
        ({"pivot_period": "M7"}, "body.pivot_period"),
        ({"swing_left": 0}, "body.swing_left"),
        # Found by fuzzing: a boolean was taken as a number (false = no depth).
        ({"double_min_depth": False}, "body.double_min_depth"),
        ({"swing_right": "3"}, "body.swing_right"),
    ]
    for options, field in bad:
        response = client.post("/chart-patterns/analyze", json={"bars": _double_top(), **options})

        assert response.status_code == 422
        assert response.json()["error"]["details"]["errors"][0]["field"] == field


def test_analyze_empty_bars_give_empty_analysis(client: TestClient) -> None:
    empty: dict[str, list[float]] = {"time": [], "high": [], "low": [], "close": []}

    response = client.post("/chart-patterns/analyze", json={"bars": empty})

    assert response.status_code == 200
    body = response.json()
    assert body["levels"] == body["double_tops"] == body["pivots"]["periods"] == []
