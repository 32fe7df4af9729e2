"""Model-based optimisation through the HTTP API: refusals that name the field and persist nothing, a small
TPE run with its per-trial events, and an NSGA-II run whose Pareto front is non-dominated."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from services.backtesting.settings import BacktestingSettings
from shared.events import EventFilter
from tests.backtesting.api.conftest import json_bars, make_settings, open_client, run_to_end

BARS = json_bars(1200)
SPACE = {"fast": {"min": 2, "max": 30}, "slow": {"min": 10, "max": 90}}


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("samplers"), max_trials=500)


@pytest.fixture(scope="module")
def client(app_settings: BacktestingSettings) -> Iterator[TestClient]:
    with open_client(app_settings) as c:
        yield c


def _body(**fields: Any) -> dict[str, Any]:
    return {
        "strategy": "sma_crossover",
        "space": SPACE,
        "sampler": "tpe",
        "n_trials": 12,
        "bars": BARS,
        **fields,
    }


TWO_OBJECTIVES = [{"metric": "sharpe_ratio"}, {"metric": "max_drawdown_pct", "direction": "maximize"}]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (_body(sampler="annealing"), "validation_error", "sampler"),
        (_body(sampler="grid"), "invalid_space", "space.fast.step"),
        (
            _body(objectives=TWO_OBJECTIVES, sampler="random", space={"fast": {"values": [5]}}),
            "invalid_sampler",
            "sampler",
        ),
        (_body(objectives=[{"metric": "nope"}]), "unknown_metric", "objectives.0.metric"),
        (
            _body(objectives=[{"metric": "sharpe_ratio", "direction": "up"}]),
            "validation_error",
            "objectives.0.direction",
        ),
        (_body(objectives=TWO_OBJECTIVES, metric="Return [%]"), "validation_error", "body"),
        (_body(constraints=["__import__('os').system('true') < 1"]), "invalid_constraint", "constraints.0"),
        (_body(constraints=["fast < slow", "fast < nope"]), "invalid_constraint", "constraints.1"),
        (_body(n_trials=501), "too_many_trials", "n_trials"),
        (_body(n_trials=0), "validation_error", "n_trials"),
        (_body(seed=2**32), "validation_error", "seed"),
        (_body(space={"fast": {"min": 0, "max": 5, "log": True}}), "validation_error", "space.fast"),
        (
            _body(space={"fast": {"min": 1, "max": 5, "step": 1, "log": True}}),
            "validation_error",
            "space.fast",
        ),
        (
            _body(
                sampler="grid",
                space={"fast": {"values": [30]}, "slow": {"values": [10]}},
                constraints=["fast < slow"],
            ),
            "invalid_constraint",
            "constraints",
        ),
    ],
    ids=[
        "unknown-sampler",
        "grid-continuous",
        "multi-objective-random",
        "unknown-objective",
        "bad-direction",
        "objectives-and-metric",
        "code-as-constraint",
        "unknown-name",
        "over-max-trials",
        "zero-trials",
        "seed-too-large",
        "log-from-zero",
        "log-with-step",
        "constraint-excludes-grid",
    ],
)
def test_search_bad_input_is_a_422_naming_the_field_and_persists_nothing(
    client: TestClient, body: dict[str, Any], code: str, field: str
) -> None:
    before = client.get("/optimizations").json()

    response = client.post("/optimize", json=body)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert field in orjson.dumps(error["details"]).decode() or error["details"].get("field") == field
    assert client.get("/optimizations").json() == before


def test_search_tpe_runs_its_trials_and_publishes_each(client: TestClient) -> None:
    events = client.app.state.bus.subscribe(EventFilter.parse("optimization.trial"))  # type: ignore[attr-defined]
    body = _body(constraints=["fast < slow"], seed=5, top_n=50, heatmap=["fast", "slow"])

    job = run_to_end(client, "/optimize", body, "/optimize/{id}")
    result = client.get(f"/optimize/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    assert job["params"]["sampler"] == "tpe" and job["params"]["n_trials"] == 12
    assert "_spec" not in job["params"]
    assert result["sampler"] == "tpe" and result["trials"] == 12
    assert all(r["params"]["fast"] < r["params"]["slow"] for r in result["top"])
    trials = [orjson.loads(e)["data"] for e in events.drain()[0]]
    trials = [t for t in trials if t["job_id"] == job["id"]]
    assert sorted(t["done"] for t in trials) == list(range(1, 13))
    assert trials[-1]["best_values"] == [result["top"][0]["score"]]
    assert result["overfitting"]["trials"] == result["evaluated"]


def test_search_nsga2_returns_a_non_dominated_pareto_front(client: TestClient) -> None:
    body = _body(sampler="nsga2", objectives=TWO_OBJECTIVES, n_trials=30, seed=2)

    job = run_to_end(client, "/optimize", body, "/optimize/{id}")
    result = client.get(f"/optimize/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    front = [tuple(p["values"]) for p in result["pareto_front"]]
    assert front and result["objectives"] == [
        {"metric": "sharpe_ratio", "direction": "maximize"},
        {"metric": "max_drawdown_pct", "direction": "maximize"},
    ]
    for a in front:
        assert not any(b[0] >= a[0] and b[1] >= a[1] and b != a for b in front)


def test_walk_forward_runs_each_in_sample_search_with_the_sampler(tmp_path: Path) -> None:
    body = {
        "strategy": "sma_crossover",
        "space": SPACE,
        "sampler": "tpe",
        "n_trials": 8,
        "constraints": ["fast < slow"],
        "in_sample_bars": 500,
        "out_of_sample_bars": 300,
        "bars": BARS,
    }
    with open_client(make_settings(tmp_path)) as c:
        job = run_to_end(c, "/walk-forward", body, "/walk-forward/{id}")
        result = c.get(f"/walk-forward/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    assert job["params"]["sampler"] == "tpe"
    assert len(result["windows"]) == 2
    assert all(w["params"]["fast"] < w["params"]["slow"] for w in result["windows"])
