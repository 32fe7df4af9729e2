"""A data-service app on a temp config, driven through TestClient with the internal token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.data.core.stores import DataStores
from services.data.main import create_app
from services.data.settings import DataSettings
from shared.config import load_config, resolve_internal_token
from tests.support.platform import write_config

MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday


def make_settings(
    directory: Path, data: dict[str, Any] | None = None, mt5_port: int | None = None
) -> DataSettings:
    """Settings from a temp config; `data` is the data section, `mt5_port` where the mt5 service answers."""
    path = write_config(directory, overrides={"data": data or {}})
    if mt5_port is not None:
        config = json.loads(path.read_text())
        config["services"]["mt5"]["port"] = mt5_port
        path.write_text(json.dumps(config))
    return load_config(path, model=DataSettings)


def open_client(settings: DataSettings) -> TestClient:
    return TestClient(create_app(settings), headers={"X-Internal-Token": resolve_internal_token(settings)})


@pytest.fixture
def settings(tmp_path: Path) -> DataSettings:
    return make_settings(
        tmp_path, {"limits": {"max_bars_per_request": 5_000, "max_ticks_per_request": 5_000}}
    )


@pytest.fixture
def client(settings: DataSettings) -> Iterator[TestClient]:
    with open_client(settings) as c:
        yield c


def stores_of(client: TestClient) -> DataStores:
    return client.app.state.stores  # type: ignore[attr-defined,no-any-return]
