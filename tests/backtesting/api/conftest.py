"""A backtesting app on a temp config, driven through TestClient with the internal token."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.backtesting.main import create_app
from services.backtesting.settings import BacktestingSettings
from shared.config import load_config, resolve_internal_token
from tests.support.platform import write_config

FINISHED = ("completed", "failed", "cancelled")


def random_walk_bars(n: int = 2000, seed: int = 7) -> dict[str, list[Any]]:
    """Hourly random-walk bars as JSON columns."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.5, n))
    open_ = np.r_[close[0], close[:-1]]
    return {
        "time": (1_700_000_000 + 3600 * np.arange(n)).tolist(),
        "open": open_.tolist(),
        "high": (np.maximum(open_, close) + 0.2).tolist(),
        "low": (np.minimum(open_, close) - 0.2).tolist(),
        "close": close.tolist(),
    }


def make_settings(directory: Path, **section: Any) -> BacktestingSettings:
    values = {"workers": 1, "optimize_workers": 1, "progress_interval_s": 0, **section}
    return load_config(write_config(directory, overrides={"backtesting": values}), model=BacktestingSettings)


@pytest.fixture
def settings(tmp_path: Path) -> BacktestingSettings:
    return make_settings(tmp_path)


def open_client(settings: BacktestingSettings) -> TestClient:
    return TestClient(create_app(settings), headers={"X-Internal-Token": resolve_internal_token(settings)})


@pytest.fixture
def client(settings: BacktestingSettings) -> Iterator[TestClient]:
    with open_client(settings) as c:
        yield c


def wait_finished(get: Callable[[], dict[str, Any]], timeout_s: float = 60) -> dict[str, Any]:
    """Poll `get` until the job's state is final (with a deadline, never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = get()
        if job["state"] in FINISHED:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job not finished after {timeout_s}s: {job}")


def run_to_end(client: TestClient, path: str, body: dict[str, Any], status_path: str) -> dict[str, Any]:
    """POST a job, check it is accepted, and wait until it ends; returns its final status."""
    response = client.post(path, json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    return wait_finished(lambda: client.get(status_path.format(id=job_id)).json())
