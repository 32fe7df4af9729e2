"""A backtesting app on a temp config, driven through TestClient with the internal token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.backtesting.main import create_app
from services.backtesting.settings import BacktestingSettings
from shared.config import load_config, resolve_internal_token
from tests.support.bars import json_columns, random_walk_bars
from tests.support.platform import write_config
from tests.support.waits import wait_job


def json_bars(n: int = 2000) -> dict[str, list[Any]]:
    """The tests' random walk (hourly) as the JSON columns a request carries."""
    return json_columns(random_walk_bars(n))


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


def run_to_end(client: TestClient, path: str, body: dict[str, Any], status_path: str) -> dict[str, Any]:
    """POST a job, check it is accepted, and wait until it ends; returns its final status."""
    response = client.post(path, json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    return wait_job(lambda: client.get(status_path.format(id=job_id)).json())
