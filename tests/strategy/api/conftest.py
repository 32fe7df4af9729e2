"""The strategy app on a temp config (TestClient, lifespan running), and the real mt5 app served on its
configured port by uvicorn in a thread when a test needs a terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services.mt5.main import create_app as create_mt5_app
from services.mt5.settings import Mt5Settings
from services.strategy.main import create_app
from services.strategy.settings import StrategySettings
from shared.config import load_config, resolve_internal_token
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock
from tests.support.platform import write_config
from tests.support.served_app import ServedApp


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, overrides={"monitoring": {"heartbeat_interval_s": 0.2}})


@pytest.fixture
def client(config: Path) -> Iterator[TestClient]:
    settings = load_config(config, model=StrategySettings)
    headers = {"X-Internal-Token": resolve_internal_token(settings)}
    with TestClient(create_app(settings), headers=headers) as test_client:
        yield test_client


@pytest.fixture
def mt5_service(config: Path) -> Iterator[ManualClock]:
    """The real mt5 service (simulated terminal, paper account) on its port, on a hand-moved clock."""
    settings = load_config(config, model=Mt5Settings)
    clock = ManualClock(WEDNESDAY_MS)
    app = create_mt5_app(settings, clock=clock)
    with ServedApp("mt5", app, settings.service("mt5").port):
        yield clock
