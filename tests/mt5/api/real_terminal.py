"""The mt5 service's real app on a real-terminal adapter (`metatrader5` or `mt5linux`), with the strict fake
MetaTrader5 module as the only stand-in: installed where the adapter imports it from (`sys.modules`)."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.mt5.main import create_app
from services.mt5.settings import Mt5Settings
from shared.config import load_config, resolve_internal_token
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5
from tests.support.platform import write_config

ADAPTERS = ("metatrader5", "mt5linux")
OFFSET_S = 7200


def install_fake(monkeypatch: pytest.MonkeyPatch, adapter: str, fake: FakeMetaTrader5) -> None:
    """Where each adapter finds its module: `import MetaTrader5`, or `mt5linux.MetaTrader5(host, port)`."""
    if adapter == "metatrader5":
        monkeypatch.setitem(sys.modules, "MetaTrader5", fake)
    else:
        bridge = types.ModuleType("mt5linux")
        bridge.MetaTrader5 = lambda host, port: fake  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "mt5linux", bridge)


def real_terminal_settings(
    directory: Path, monkeypatch: pytest.MonkeyPatch, adapter: str, **mt5_section: Any
) -> Mt5Settings:
    """Live trading on a broker with suffix "m" and server time UTC+2; quick probes and reconnects."""
    monkeypatch.setenv("MT5_LIVE_TRADING_CONFIRM", "I_UNDERSTAND")
    mt5 = {
        "adapter": adapter,
        "metatrader5": {
            "symbol_suffix": "m",
            "server_time_offset_s": OFFSET_S,
            "activity_interval_ms": 50,
        },
        "probe_interval_s": 0.05,
        "reconnect_initial_s": 0.05,
        "reconnect_max_s": 0.2,
        "tick_event_interval_ms": 20,
        "sync_interval_ms": 20,
        **mt5_section,
    }
    path = write_config(
        directory,
        overrides={"monitoring": {"heartbeat_interval_s": 0.2}, "trading": {"mode": "live"}},
        replace={"mt5": mt5},
    )
    return load_config(path, model=Mt5Settings)


@contextmanager
def real_terminal_client(
    directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    adapter: str,
    fake: FakeMetaTrader5 | None = None,
    clock: ManualClock | None = None,
    listener: Callable[[Mapping[str, Any]], None] | None = None,
    **mt5_section: Any,
) -> Iterator[tuple[TestClient, FakeMetaTrader5]]:
    """A TestClient (lifespan running) of the real app on the fake terminal, sending the internal token."""
    clock = clock or ManualClock(WEDNESDAY_MS)
    fake = fake or FakeMetaTrader5(now_ms=clock.now_ms, server_offset_s=OFFSET_S)
    install_fake(monkeypatch, adapter, fake)
    settings = real_terminal_settings(directory, monkeypatch, adapter, **mt5_section)
    headers = {"X-Internal-Token": resolve_internal_token(settings)}
    # The market's clock is the fake terminal's, as a real terminal's is the wall's.
    app = create_app(settings, clock=clock)
    if listener is not None:  # hears what the service publishes while it starts, before any client can
        app.state.bus.add_listener(listener)
    with TestClient(app, headers=headers) as client:
        yield client, fake


def calls_named(fake: FakeMetaTrader5, *names: str) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    return [c for c in fake.calls if c[0] in names]
