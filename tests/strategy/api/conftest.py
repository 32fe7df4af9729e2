"""The strategy app on a temp config (TestClient, lifespan running), and the real mt5 app served on its
configured port by uvicorn in a thread when a test needs a terminal."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from services.mt5.main import create_app as create_mt5_app
from services.mt5.settings import Mt5Settings
from services.strategy.main import create_app
from services.strategy.settings import StrategySettings
from shared.config import load_config, resolve_internal_token
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock
from tests.support.platform import write_config


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
    server = uvicorn.Server(
        uvicorn.Config(
            create_mt5_app(settings, clock=clock),
            host="127.0.0.1",
            port=settings.service("mt5").port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the mt5 app did not start"
        time.sleep(0.02)
    yield clock
    server.should_exit = True
    thread.join(10)
