"""An ai app on a temp config, driven through TestClient with the internal token, in front of the
tests' stand-in data service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.ai.main import create_app
from services.ai.settings import AiSettings
from shared.config import load_config, resolve_internal_token
from tests.ai.support import planted_bars
from tests.support.bars import rates as support_rates
from tests.support.data_standin import DataStandIn
from tests.support.platform import write_config
from tests.support.waits import wait_job


def make_settings(directory: Path, **section: Any) -> AiSettings:
    values = {"workers": 1, "progress_interval_s": 0, **section}
    return load_config(write_config(directory, overrides={"ai": values}), model=AiSettings)


def open_client(settings: AiSettings) -> TestClient:
    return TestClient(create_app(settings), headers={"X-Internal-Token": resolve_internal_token(settings)})


def run_training(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """POST /models/train, check it is accepted, and wait until the job ends; returns its final record."""
    response = client.post("/models/train", json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    return wait_job(lambda: client.get(f"/models/jobs/{job_id}").json())


def rates(n: int = 1500) -> np.ndarray:
    return support_rates(planted_bars(n))


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> AiSettings:
    return make_settings(tmp_path_factory.mktemp("ai"))


@pytest.fixture(scope="module")
def client(settings: AiSettings) -> Iterator[TestClient]:
    with DataStandIn(settings, {("EURUSD", "H1"): rates()}), open_client(settings) as c:
        yield c
