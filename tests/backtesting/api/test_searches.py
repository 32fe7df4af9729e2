"""Optimisation and walk-forward jobs through the HTTP API, checked against the in-process core."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
from fastapi.testclient import TestClient

from services.backtesting.core import BacktestConfig, ParamRange, run_optimization, run_walk_forward
from shared.trading import StrategyRegistry
from tests.backtesting.api.conftest import json_bars, make_settings, open_client, run_to_end

REGISTRY = StrategyRegistry.with_builtins()
SPACE = {"fast": {"min": 5, "max": 25, "step": 5}, "slow": {"values": [10, 20, 40]}}
CORE_SPACE = {"fast": ParamRange(start=5, stop=25, step=5), "slow": ParamRange(values=[10, 20, 40])}


def _columns(bars: dict[str, list[Any]]) -> dict[str, np.ndarray]:
    return {name: np.asarray(values) for name, values in bars.items()}


def test_optimize_on_two_processes_equals_the_in_process_search(tmp_path: Path) -> None:
    bars = json_bars(3000)
    body = {
        "strategy": "sma_crossover",
        "space": SPACE,
        "metric": "Return [%]",
        "top_n": 4,
        "heatmap": ["fast", "slow"],
        "bars": bars,
        "initial_balance": 100_000,
    }

    with open_client(make_settings(tmp_path, optimize_workers=2)) as client:
        job = run_to_end(client, "/optimize", body, "/optimize/{id}")
        result = client.get(f"/optimize/{job['id']}").json()["result"]

    expected = run_optimization(
        _columns(bars),
        "sma_crossover",
        CORE_SPACE,
        BacktestConfig(initial_balance=100_000),
        registry=REGISTRY,
        metric="Return [%]",
        top_n=4,
        heatmap=("fast", "slow"),
    )
    assert job["state"] == "completed", job["error"]
    assert result == orjson.loads(orjson.dumps(expected.model_dump(mode="json")))
    # fast >= slow is refused by the parameter model: (10,10), (15,10), (20,10), (25,10), (20,20), (25,20)
    assert (result["evaluated"], result["invalid"]) == (9, 6)
    assert result["heatmap"]["x_values"] == [5, 10, 15, 20, 25]
    assert result["heatmap"]["values"][4][0] is None  # (25, 10) was never valid
    assert len(result["top"]) == 4


def test_optimize_random_search_evaluates_the_requested_samples(client: TestClient) -> None:
    body = {
        "strategy": "ema_crossover",
        "space": {"fast": {"min": 2, "max": 10, "step": 1}, "slow": {"min": 20, "max": 60, "step": 5}},
        "method": "random",
        "samples": 7,
        "seed": 3,
        "bars": json_bars(1000),
    }

    job = run_to_end(client, "/optimize", body, "/optimize/{id}")
    result = client.get(f"/optimize/{job['id']}").json()["result"]

    assert job["params"]["combinations"] == 7
    assert result["evaluated"] + result["invalid"] == 7


def test_walk_forward_windows_equal_the_in_process_analysis(client: TestClient) -> None:
    bars = json_bars(2000)
    body = {
        "strategy": "sma_crossover",
        "space": {"fast": {"values": [5, 10]}, "slow": {"values": [20, 40]}},
        "in_sample_bars": 600,
        "out_of_sample_bars": 350,
        "metric": "Return [%]",
        "bars": bars,
    }

    job = run_to_end(client, "/walk-forward", body, "/walk-forward/{id}")
    result = client.get(f"/walk-forward/{job['id']}", params={"max_points": 5000}).json()["result"]

    expected = run_walk_forward(
        _columns(bars),
        "sma_crossover",
        {"fast": ParamRange(values=[5, 10]), "slow": ParamRange(values=[20, 40])},
        BacktestConfig(),
        registry=REGISTRY,
        in_sample_bars=600,
        out_of_sample_bars=350,
        metric="Return [%]",
    )
    assert job["state"] == "completed", job["error"]
    assert job["params"]["windows"] == 4
    assert [w["out_of_sample"] for w in result["windows"]] == [
        [600, 950],
        [950, 1300],
        [1300, 1650],
        [1650, 2000],
    ]
    assert result == orjson.loads(orjson.dumps(expected.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))
    assert len(result["equity"]["time"]) == 1400  # the stitched out-of-sample bars


def test_optimize_listing_shows_the_job_without_private_fields(client: TestClient) -> None:
    body = {"strategy": "sma_crossover", "space": SPACE, "bars": json_bars(500)}

    job = run_to_end(client, "/optimize", body, "/optimize/{id}")
    listed = client.get("/optimizations").json()

    assert [item["id"] for item in listed] == [job["id"]]
    assert "bars_file" not in listed[0]["params"]
    assert listed[0]["params"]["space"]["fast"] == {"start": 5.0, "stop": 25.0, "step": 5.0}
