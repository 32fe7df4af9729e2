"""The overfitting measures of optimisation and walk-forward jobs, through the HTTP API and the service's
settings (`backtesting.overfitting`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.backtesting.api.conftest import json_bars, make_settings, open_client, run_to_end

SPACE = {"fast": {"min": 5, "max": 25, "step": 5}, "slow": {"values": [10, 20, 40]}}


def _in_range(report: dict[str, Any]) -> None:
    assert 0.0 <= report["deflated_sharpe_ratio"] <= 1.0
    assert report["expected_max_sharpe"] >= 0.0
    assert report["pbo"] is None or 0.0 <= report["pbo"] <= 1.0


def test_optimize_result_has_the_overfitting_block_with_values_in_range(client: TestClient) -> None:
    body = {"strategy": "sma_crossover", "space": SPACE, "bars": json_bars(3000), "initial_balance": 100_000}

    job = run_to_end(client, "/optimize", body, "/optimize/{id}")
    result = client.get(f"/optimize/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    report = result["overfitting"]
    assert set(report) == {
        "trials",
        "observations",
        "best_sharpe",
        "expected_max_sharpe",
        "deflated_sharpe_ratio",
        "pbo",
        "pbo_trials",
        "pbo_splits",
    }
    assert (report["trials"], report["observations"], report["pbo_trials"]) == (9, 126, 9)
    _in_range(report)
    assert report["pbo"] is not None


def test_optimize_follows_the_configured_splits_and_says_why_pbo_is_null(tmp_path: Path) -> None:
    body = {"strategy": "sma_crossover", "space": SPACE, "bars": json_bars(600)}

    with open_client(make_settings(tmp_path, overfitting={"pbo_splits": 4, "pbo_min_block_periods": 8})) as c:
        job = run_to_end(c, "/optimize", body, "/optimize/{id}")
        result = c.get(f"/optimize/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    assert result["overfitting"]["pbo_splits"] == 4
    assert result["overfitting"]["pbo"] is None  # 26 days < 4 blocks x 8
    (warning,) = [w for w in result["warnings"] if w["code"] == "pbo_unavailable"]
    assert "26 daily returns are fewer than 4 blocks x 8" in warning["message"]


def test_walk_forward_windows_have_their_in_sample_block(client: TestClient) -> None:
    body = {
        "strategy": "sma_crossover",
        "space": SPACE,
        "in_sample_bars": 2000,
        "out_of_sample_bars": 500,
        "bars": json_bars(3000),
    }

    job = run_to_end(client, "/walk-forward", body, "/walk-forward/{id}")
    result = client.get(f"/walk-forward/{job['id']}").json()["result"]

    assert job["state"] == "completed", job["error"]
    assert len(result["windows"]) == 2
    for window in result["windows"]:
        assert window["in_sample_overfitting"]["trials"] == 9
        _in_range(window["in_sample_overfitting"])
