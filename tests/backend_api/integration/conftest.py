from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.platform import Platform, write_config

FAST_HEALTH = {
    "health_interval_s": 0.3,
    "health_timeout_s": 0.5,
    "health_failures": 2,
    "backoff_initial_s": 0.2,
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """One running platform shared by a module's tests; the `ai` slot runs the event emitter."""
    directory: Path = tmp_path_factory.mktemp("platform")
    config = write_config(
        directory,
        overrides={"orchestrator": FAST_HEALTH, "monitoring": {"ws_send_timeout_s": 2.0}},
        modules={"ai": "tests.support.emitter_service"},
    )
    running = Platform(config).start()
    try:
        running.wait_all_online(60)
        yield running
    finally:
        running.stop()
