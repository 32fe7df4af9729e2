"""Every bad request gets a 4xx naming the problem, and nothing is persisted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.ai.settings import AiSettings
from tests.ai.api.conftest import run_training
from tests.ai.support import FAST_HYPERPARAMETERS, FEATURES, START, planted_bars
from tests.support.bars import json_columns

BARS = json_columns(planted_bars(1500))
GOOD: dict[str, Any] = {
    "name": "good",
    "model_type": "random_forest",
    "features": FEATURES,
    "hyperparameters": FAST_HYPERPARAMETERS["random_forest"],
    "folds": 3,
    "bars": BARS,
}
DATA = {"symbol": "EURUSD", "timeframe": "H1", "from": START, "to": START + 1499 * 3600}


def _without_bars(**extra: Any) -> dict[str, Any]:
    return {**{k: v for k, v in GOOD.items() if k != "bars"}, **extra}


TRAIN_CASES = [
    (
        "invalid_hyperparameter",
        {**GOOD, "hyperparameters": {"n_estimators": 0}},
        422,
        "invalid_hyperparameters",
        "hyperparameters.n_estimators",
    ),
    (
        "unknown_hyperparameter",
        {**GOOD, "hyperparameters": {"trees": 5}},
        422,
        "invalid_hyperparameters",
        "hyperparameters.trees",
    ),
    ("unknown_model_type", {**GOOD, "model_type": "svm"}, 422, "validation_error", "body.model_type"),
    ("unknown_feature", {**GOOD, "features": [{"name": "vwap"}]}, 422, "validation_error", "body.features.0"),
    (
        "invalid_feature_param",
        {**GOOD, "features": [{"name": "rsi", "period": 1}]},
        422,
        "validation_error",
        "body.features.0.rsi.period",
    ),
    (
        "repeated_feature",
        {**GOOD, "features": [{"name": "rsi"}, {"name": "rsi"}]},
        422,
        "invalid_features",
        "features",
    ),
    ("bad_name", {**GOOD, "name": "../escape"}, 422, "validation_error", "body.name"),
    (
        "classifier_on_returns",
        {**GOOD, "model_type": "logistic_regression", "hyperparameters": {}, "label": {"kind": "return"}},
        422,
        "unsupported_label",
        "label.kind",
    ),
    (
        "short_embargo",
        {**GOOD, "label": {"kind": "direction", "horizon": 4}, "embargo_bars": 2},
        422,
        "invalid_embargo",
        "embargo_bars",
    ),
    (
        "single_class",
        {**GOOD, "label": {"kind": "direction", "threshold": 0.5}},
        422,
        "single_class",
        "label.threshold",
    ),
    ("too_few_inline_bars", {**GOOD, "bars": json_columns(planted_bars(120))}, 422, "too_few_bars", None),
    ("too_few_data_bars", _without_bars(**{**DATA, "to": START + 99 * 3600}), 422, "too_few_bars", None),
    ("unknown_symbol", _without_bars(**{**DATA, "symbol": "NOPE"}), 404, "unknown_symbol", None),
    (
        "unknown_timeframe",
        _without_bars(**{**DATA, "timeframe": "H5"}),
        422,
        "unknown_timeframe",
        "body.timeframe",
    ),
    ("empty_range", _without_bars(**{**DATA, "to": START}), 422, "empty_range", "to"),
    ("no_source", _without_bars(), 422, "validation_error", "body"),
    ("bars_and_range", {**GOOD, "from": START}, 422, "validation_error", "body"),
    (
        "unordered_times",
        {**GOOD, "bars": {**BARS, "time": [BARS["time"][1], *BARS["time"][1:]]}},
        422,
        "invalid_bars",
        "bars.time",
    ),
    (
        "ragged_bars",
        {**GOOD, "bars": {**BARS, "close": BARS["close"][:-1]}},
        422,
        "invalid_bars",
        "bars.close",
    ),
    (
        "high_below_low",
        {**GOOD, "bars": {**BARS, "high": [BARS["low"][0] - 1, *BARS["high"][1:]]}},
        422,
        "invalid_bars",
        "bars.high",
    ),
    ("no_bars", {**GOOD, "bars": {name: [] for name in BARS}}, 422, "invalid_bars", "bars.time"),
    (
        "string_price",
        {**GOOD, "bars": {**BARS, "close": [*BARS["close"][:5], "1.1", *BARS["close"][6:]]}},
        422,
        "validation_error",
        "body.bars.close.5",
    ),
    (
        "boolean_volume",
        {**GOOD, "bars": {**BARS, "tick_volume": [True, *BARS["tick_volume"][1:]]}},
        422,
        "validation_error",
        "body.bars.tick_volume.0",
    ),
    (
        "fractional_time",
        {**GOOD, "bars": {**BARS, "time": [*BARS["time"][:-1], BARS["time"][-1] + 0.5]}},
        422,
        "validation_error",
        f"body.bars.time.{len(BARS['time']) - 1}",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "code", "field"), TRAIN_CASES, ids=[c[0] for c in TRAIN_CASES]
)
def test_train_bad_input_refused_naming_the_problem(
    client: TestClient, case: str, body: dict, status: int, code: str, field: str | None
) -> None:
    response = client.post("/models/train", json=body)

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    if field is not None:
        named = error["details"].get("field") or error["details"]["errors"][0]["field"]
        assert named.startswith(field), error


def test_train_refusals_persist_nothing(client: TestClient, settings: AiSettings) -> None:
    for _, body, *_ in TRAIN_CASES:
        client.post("/models/train", json=body)

    assert client.get("/models/jobs").json() == []
    assert client.get("/models").json() == []
    assert list((settings.jobs_db_path.parent / "bars").iterdir()) == []


@pytest.fixture(scope="module")
def model_id(client: TestClient) -> str:
    job = run_training(
        client, {**GOOD, "name": "lr", "model_type": "logistic_regression", "hyperparameters": {}}
    )
    assert job["state"] == "completed", job["error"]
    return str(job["result"]["model_id"])


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/models/nope"), ("delete", "/models/nope"), ("post", "/models/nope/predict")],
)
def test_unknown_model_404(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={"bars": json_columns(planted_bars(50))})
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_model"


@pytest.mark.parametrize("path", ["/models/jobs/nope", "/models/jobs/nope/cancel"])
def test_unknown_job_404(client: TestClient, path: str) -> None:
    response = client.request("get" if path.endswith("nope") else "post", path)
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_job"


def test_predict_features_not_matching_model_refused(client: TestClient, model_id: str) -> None:
    response = client.post(
        f"/models/{model_id}/predict", json={"features": {"returns_1": [0.1], "rsi_9": [0.5]}}
    )

    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "feature_mismatch"
    assert "rsi_9" in error["details"]["unexpected"] and "rsi_14" in error["details"]["missing"]


def test_predict_too_few_bars_for_feature_windows_refused(client: TestClient, model_id: str) -> None:
    response = client.post(f"/models/{model_id}/predict", json={"bars": json_columns(planted_bars(10))})

    error = response.json()["error"]
    assert (
        response.status_code == 422 and error["code"] == "too_few_bars" and error["details"]["needed"] == 15
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"bars": json_columns(planted_bars(20)), "symbol": "EURUSD", "timeframe": "H1", "count": 3},
        {"symbol": "EURUSD", "count": 3},
        {"symbol": "EURUSD", "timeframe": "H1", "count": 0},
    ],
)
def test_predict_bad_source_refused(client: TestClient, model_id: str, body: dict) -> None:
    response = client.post(f"/models/{model_id}/predict", json=body)
    assert response.status_code == 422 and response.json()["error"]["code"] == "validation_error"
