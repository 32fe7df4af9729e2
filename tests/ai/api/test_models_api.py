"""Train → poll → registry → predict → delete through HTTP, with bars from a stand-in data service."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.ai.core.training import TrainSpec
from shared.ml.features import build_features, parse_features
from tests.ai.api.conftest import run_training
from tests.ai.support import FAST_HYPERPARAMETERS, FEATURES, START, planted_bars
from tests.support.bars import json_columns
from tests.support.waits import wait_job

N = 1500
WINDOW = {"symbol": "EURUSD", "timeframe": "H1", "from": START, "to": START + (N - 1) * 3600}


def _body(name: str, model_type: str = "random_forest", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "model_type": model_type,
        "features": FEATURES,
        "hyperparameters": FAST_HYPERPARAMETERS[model_type],
        "folds": 3,
        **extra,
    }


@pytest.fixture(scope="module")
def trained(client: TestClient) -> dict[str, Any]:
    """A random forest trained on the data service's bars, with the events seen while it trained."""
    events: list[dict[str, Any]] = []
    client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]
    job = run_training(client, _body("eurusd-rf", **WINDOW))
    return {"job": job, "events": events}


def test_train_from_data_service_completes_and_registers(client: TestClient, trained: dict[str, Any]) -> None:
    job = trained["job"]
    assert job["state"] == "completed", job["error"]
    model_id = job["result"]["model_id"]

    listed = client.get("/models").json()
    model = client.get(f"/models/{model_id}").json()

    assert [m["id"] for m in listed] == [model_id]
    assert model["version"] == 1 and model["model_type"] == "random_forest" and model["seed"] == 0
    assert model["training"]["from"] == START and model["training"]["to"] == WINDOW["to"]
    assert model["symbol"] == "EURUSD" and model["timeframe"] == "H1" and model["source"]["source"] == "data"
    assert model["metrics"]["costs"]["spread_source"] == "bars x point 1e-05"
    oos = model["metrics"]["out_of_sample"]
    assert oos["accuracy"] > oos["baseline_accuracy"] + 0.15
    assert "bars_file" not in job["params"]


def test_train_job_params_are_the_request_and_where_its_bars_came_from(
    client: TestClient, trained: dict[str, Any]
) -> None:
    """Pinned key by key: the typed job spec changed how a job reaches its worker, not what a client reads."""
    job_id = trained["job"]["id"]
    listed = {job["id"]: job["params"] for job in client.get("/models/jobs").json()}
    spec = TrainSpec.model_validate(_body("eurusd-rf")).model_dump(mode="json")

    assert (
        listed[job_id]
        == trained["job"]["params"]
        == {
            "name": "eurusd-rf",
            "model_type": "random_forest",
            "symbol": "EURUSD",
            "timeframe": "H1",
            "source": {"source": "data", "from": WINDOW["from"], "to": WINDOW["to"], "bars": N},
            "spec": spec,
        }
    )


def test_train_publishes_progress_and_trained_events(trained: dict[str, Any]) -> None:
    types = [e["type"] for e in trained["events"]]
    progress = [e["data"] for e in trained["events"] if e["type"] == "model.progress"]

    assert "model.completed" in types and "model.trained" in types
    assert {p.get("fold") for p in progress} >= {1, 2, 3}
    assert all(p["name"] == "eurusd-rf" and p["symbol"] == "EURUSD" for p in progress)
    trained_event = next(e["data"] for e in trained["events"] if e["type"] == "model.trained")
    assert trained_event["model_id"] == trained["job"]["result"]["model_id"]


def test_predict_inline_latest_and_features_agree(client: TestClient, trained: dict[str, Any]) -> None:
    model_id = trained["job"]["result"]["model_id"]
    bars = planted_bars(N)

    inline = client.post(f"/models/{model_id}/predict", json={"bars": json_columns(bars)}).json()
    latest = client.post(
        f"/models/{model_id}/predict", json={"symbol": "EURUSD", "timeframe": "H1", "count": 5}
    ).json()

    assert len(inline["time"]) == len(inline["class"]) == len(inline["probabilities"]["up"]) == N - 14
    assert latest["time"] == inline["time"][-5:] and latest["class"] == inline["class"][-5:]
    np.testing.assert_allclose(
        np.sum([inline["probabilities"][c] for c in ("down", "up")], axis=0), 1.0, rtol=1e-12
    )
    assert set(inline["class"]) == {"down", "up"}


def test_predict_feature_matrix_equals_bars(client: TestClient, trained: dict[str, Any]) -> None:
    model_id = trained["job"]["result"]["model_id"]
    bars = planted_bars(100)
    model = client.get(f"/models/{model_id}").json()
    matrix = build_features(bars, parse_features(model["features"]))
    columns = {
        name: [None if np.isnan(v) else v for v in matrix[:, i]]
        for i, name in enumerate(model["feature_columns"])
    }

    by_features = client.post(
        f"/models/{model_id}/predict", json={"features": columns, "time": bars["time"].tolist()}
    ).json()
    by_bars = client.post(f"/models/{model_id}/predict", json={"bars": json_columns(bars)}).json()

    assert by_features["time"] == by_bars["time"] and by_features["class"] == by_bars["class"]


def test_second_training_of_a_name_is_version_two_then_delete(client: TestClient) -> None:
    body = _body("inline-lr", "logistic_regression", bars=json_columns(planted_bars(N)))
    first, second = run_training(client, body), run_training(client, body)
    first_id, second_id = first["result"]["model_id"], second["result"]["model_id"]

    assert (first["result"]["version"], second["result"]["version"]) == (1, 2)
    assert first["params"]["source"] == {"source": "inline", "bars": N}
    assert (first["params"]["symbol"], first["params"]["timeframe"]) == (None, None)
    assert (
        client.get(f"/models/{first_id}").json()["metrics"]
        == client.get(f"/models/{second_id}").json()["metrics"]
    )
    assert client.delete(f"/models/{second_id}").status_code == 204
    assert client.get(f"/models/{second_id}").status_code == 404
    assert [m["version"] for m in client.get("/models", params={"name": "inline-lr"}).json()] == [1]


def test_keras_model_trains_in_worker_and_predicts(client: TestClient) -> None:
    body = _body("inline-mlp", "mlp", bars=json_columns(planted_bars(N)), folds=2)

    job = run_training(client, body)

    assert job["state"] == "completed", job["error"]
    model_id = job["result"]["model_id"]
    assert client.get(f"/models/{model_id}").json()["framework"] == "keras"
    predicted = client.post(f"/models/{model_id}/predict", json={"bars": json_columns(planted_bars(100))})
    assert predicted.status_code == 200 and len(predicted.json()["class"]) == 100 - 14


def test_cancel_running_job_ends_cancelled_without_a_model(client: TestClient) -> None:
    body = _body(
        "slow-rf",
        bars=json_columns(planted_bars(N)),
        folds=12,
        hyperparameters={"n_estimators": 300, "max_depth": None, "min_samples_leaf": 1},
    )
    job_id = client.post("/models/train", json=body).json()["id"]
    running = wait_job(lambda: client.get(f"/models/jobs/{job_id}").json(), lambda job: job["percent"] > 0)
    assert running["state"] == "running", running

    response = client.post(f"/models/jobs/{job_id}/cancel")
    job = wait_job(lambda: client.get(f"/models/jobs/{job_id}").json())

    assert response.status_code == 202
    assert job["state"] == "cancelled"
    assert client.get("/models", params={"name": "slow-rf"}).json() == []
    assert client.post(f"/models/jobs/{job_id}/cancel").json()["error"]["code"] == "job_finished"
