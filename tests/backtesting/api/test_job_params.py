"""A job's `params` as the API answers them, pinned key by key for each run kind: the typed job specs
changed how a job reaches its worker, not what a client reads back."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from services.backtesting.core import BacktestConfig
from tests.backtesting.api.conftest import json_bars
from tests.support.waits import wait_job

CONFIG_KEYS = list(BacktestConfig.model_fields)
INLINE = {"source": "inline", "symbol": None, "timeframe": None, "bars": 600}


def _started_and_listed(
    client: TestClient, start: str, status: str, listing: str, body: dict[str, Any]
) -> Any:
    """The params the start answered, after checking the finished job's listing shows the same."""
    started = client.post(start, json=body)
    assert started.status_code == 202, started.text
    job = started.json()
    finished = wait_job(lambda: client.get(status.format(id=job["id"])).json())
    assert finished["state"] == "completed", finished["error"]
    listed = {item["id"]: item["params"] for item in client.get(listing).json()}
    assert listed[job["id"]] == finished["params"] == job["params"]
    return job["params"]


def test_job_params_backtest_are_strategy_source_and_config(client: TestClient) -> None:
    body = {"strategy": "sma_crossover", "params": {"fast": 10, "slow": 20}, "bars": json_bars(600)}

    params = _started_and_listed(client, "/backtest/start", "/backtest/{id}/status", "/backtests", body)

    assert list(params) == ["strategy", "params", "source", "symbol", "timeframe", "bars", "config"]
    assert {k: v for k, v in params.items() if k != "config"} == {
        "strategy": "sma_crossover",
        "params": {"fast": 10, "slow": 20},
        **INLINE,
    }
    assert list(params["config"]) == CONFIG_KEYS and params["config"]["initial_balance"] == 10_000.0


# A search's sampler and budget as an omitted sampler, objective and constraints store them.
SEARCH_DEFAULTS = {
    "sampler": "grid",
    "objectives": [{"metric": "Sharpe Ratio", "direction": "maximize"}],
    "constraints": [],
    "n_trials": 100,
    "samples": 100,
    "seed": 0,
}


def test_job_params_optimization_carry_the_search_as_requested(client: TestClient) -> None:
    body = {
        "strategy": "sma_crossover",
        "space": {"fast": {"min": 5, "max": 15, "step": 5}, "slow": {"values": [20, 40]}},
        "heatmap": ["fast", "slow"],
        "bars": json_bars(600),
    }

    params = _started_and_listed(client, "/optimize", "/optimize/{id}", "/optimizations", body)

    assert list(params.pop("config")) == CONFIG_KEYS
    assert params == {
        "strategy": "sma_crossover",
        "params": {},
        "space": {"fast": {"start": 5.0, "stop": 15.0, "step": 5.0}, "slow": {"values": [20, 40]}},
        "metric": "Sharpe Ratio",
        "maximize": True,
        **SEARCH_DEFAULTS,
        "top_n": 10,
        "heatmap": ["fast", "slow"],
        "combinations": 6,
        **INLINE,
    }


def test_job_params_walk_forward_carry_the_windows(client: TestClient) -> None:
    body = {
        "strategy": "sma_crossover",
        "space": {"fast": {"values": [5, 10]}, "slow": {"values": [20]}},
        "in_sample_bars": 300,
        "out_of_sample_bars": 100,
        "bars": json_bars(600),
    }

    params = _started_and_listed(client, "/walk-forward", "/walk-forward/{id}", "/walk-forwards", body)

    assert list(params.pop("config")) == CONFIG_KEYS
    assert params == {
        "strategy": "sma_crossover",
        "params": {},
        "space": {"fast": {"values": [5, 10]}, "slow": {"values": [20]}},
        "metric": "Sharpe Ratio",
        "maximize": True,
        **SEARCH_DEFAULTS,
        "in_sample_bars": 300,
        "out_of_sample_bars": 100,
        "anchored": False,
        "windows": 3,
        **INLINE,
    }
