"""The mt5 app on a temp config with a hand-driven clock: TestClient helpers shared by the API tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from services.mt5.main import create_app
from services.mt5.settings import Mt5Settings
from shared.config import load_config, resolve_internal_token
from tests.support.platform import write_config

WEDNESDAY_MS = int(datetime(2025, 11, 19, 13, 0, 0, tzinfo=UTC).timestamp() * 1000)
SATURDAY_MS = int(datetime(2025, 11, 22, 12, 0, 0, tzinfo=UTC).timestamp() * 1000)
SEED = 7


class ManualClock:
    """The simulated terminal's clock, moved only by the test."""

    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now

    def advance_to(self, ms: int) -> None:
        assert ms >= self.now, "time only moves forward"
        self.now = ms


def mt5_config(directory: Path, **mt5_section: Any) -> Mt5Settings:
    """Settings from a temp config.json whose `mt5` section is the defaults plus `mt5_section`."""
    mt5 = {"simulated": {"seed": SEED}, "tick_event_interval_ms": 20, "sync_interval_ms": 20, **mt5_section}
    path = write_config(
        directory, overrides={"monitoring": {"heartbeat_interval_s": 0.2}}, replace={"mt5": mt5}
    )
    return load_config(path, model=Mt5Settings)


@contextmanager
def mt5_client(settings: Mt5Settings, clock: ManualClock | None = None) -> Iterator[TestClient]:
    """A TestClient (lifespan running) sending the internal token."""
    app = create_app(settings, clock=clock)
    headers = {"X-Internal-Token": resolve_internal_token(settings)}
    with TestClient(app, headers=headers) as client:
        yield client


def error_of(response: Any) -> dict[str, Any]:
    """The error object of a 4xx/5xx answer."""
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def receive_until(ws: Any, wanted: Callable[[dict[str, Any]], bool], limit: int = 500) -> dict[str, Any]:
    """Read events (heartbeats keep them coming) until one matches."""
    for _ in range(limit):
        message = json.loads(ws.receive_text())
        if wanted(message):
            return message
    raise AssertionError("expected event not received")


def buy(client: TestClient, volume: float = 0.1, **extra: Any) -> Any:
    return client.post("/orders", json={"symbol": "EURUSD", "type": "BUY", "volume": volume, **extra})
