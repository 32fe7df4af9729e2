"""Values the fuzz tests found slipping past validation: coerced by pydantic's lax mode, or reaching numpy
unchecked (a 500). Each is now a 422 naming the field; the values next to them are still accepted."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ai.api.conftest import run_training
from tests.ai.support import FEATURES, START, planted_bars
from tests.support.bars import json_columns

TRAIN = {
    "name": "typed",
    "model_type": "logistic_regression",
    "features": FEATURES,
    "folds": 3,
    "symbol": "EURUSD",
    "timeframe": "H1",
}


@pytest.fixture(scope="module")
def model(client: TestClient) -> dict[str, Any]:
    """A logistic regression (it reads its inputs as float32, as every model type does) and its columns."""
    job = run_training(client, {**TRAIN, "bars": json_columns(planted_bars(1500))})
    assert job["state"] == "completed", job["error"]
    return client.get(f"/models/{job['result']['model_id']}").json()


def _refused_field(response: Any) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    return str(error["details"]["errors"][0]["field"])


def test_predict_latest_empty_timeframe_refused_not_500(client: TestClient) -> None:
    # Was a 500: the route asserted the three fields were truthy, and "" passed the schema.
    response = client.post("/models/any/predict", json={"symbol": "EURUSD", "timeframe": "", "count": 3})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["details"]["field"]) == ("unknown_timeframe", "body.timeframe")


def test_predict_feature_time_beyond_int64_refused(client: TestClient, model: dict[str, Any]) -> None:
    # Was a 500: numpy could not hold the time as int64.
    features = {column: [0.1] for column in model["feature_columns"]}

    response = client.post(f"/models/{model['id']}/predict", json={"features": features, "time": [2**70]})

    assert _refused_field(response) == "body.time.0"


@pytest.mark.parametrize("value", [1e39, True, "0.5"], ids=["beyond_float32", "boolean", "string"])
def test_predict_feature_value_not_a_float32_number_refused(
    client: TestClient, model: dict[str, Any], value: Any
) -> None:
    # 1e39 was a 500 (infinity once cast to float32); true and "0.5" were read as numbers.
    first, *others = model["feature_columns"]
    features = {first: [value], **{column: [0.1] for column in others}}

    response = client.post(f"/models/{model['id']}/predict", json={"features": features})

    assert _refused_field(response) == f"body.features.{first}.0"


def test_predict_features_integers_and_nulls_accepted(client: TestClient, model: dict[str, Any]) -> None:
    features = {column: [0, None, 0.5] for column in model["feature_columns"]}

    response = client.post(f"/models/{model['id']}/predict", json={"features": features, "time": [1, 2, 3]})

    assert response.status_code == 200, response.text
    assert response.json()["row"] == [0, 2]


def test_predict_boolean_count_refused(client: TestClient) -> None:
    response = client.post("/models/any/predict", json={"symbol": "EURUSD", "timeframe": "H1", "count": True})

    assert _refused_field(response) == "body.count"


@pytest.mark.parametrize("field", ["from", "to"])
def test_train_boolean_time_refused(client: TestClient, field: str) -> None:
    # Was accepted as epoch second 1 (from) and trained on the data service's bars.
    body = {**TRAIN, "from": START, "to": START + 1499 * 3600, field: True}
    jobs = len(client.get("/models/jobs").json())

    response = client.post("/models/train", json=body)

    assert _refused_field(response) == f"body.{field}"
    assert len(client.get("/models/jobs").json()) == jobs


def test_predict_with_no_complete_row_answers_empty_columns(
    client: TestClient, model: dict[str, Any]
) -> None:
    # Was a 500: the class of no rows was taken from an empty probability matrix.
    features = {column: [None, None] for column in model["feature_columns"]}

    response = client.post(f"/models/{model['id']}/predict", json={"features": features})

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["row"], body["class"]) == ([], [])
    assert body["probabilities"] == {name: [] for name in model["classes"]}
