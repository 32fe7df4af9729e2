"""Connection health: a lost terminal is detected, reconnected with backoff, and callers fail fast."""

from __future__ import annotations

import pytest

from services.mt5.core.adapters.metatrader5 import Mt5ModuleTerminal
from services.mt5.core.connection import ConnectionChange, ConnectionMonitor, ConnectionState, compute_backoff
from shared.errors import ServiceUnavailableError
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5

NOW_MS = 1_763_557_234_567


class ManualClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make() -> tuple[ConnectionMonitor, FakeMetaTrader5, ManualClock, list[ConnectionChange]]:
    fake = FakeMetaTrader5(now_ms=lambda: NOW_MS)
    clock, changes = ManualClock(), []
    monitor = ConnectionMonitor(Mt5ModuleTerminal(module=fake), monotonic=clock, on_change=changes.append)
    return monitor, fake, clock, changes


def test_compute_backoff_doubles_from_one_second_to_a_minute_cap() -> None:
    assert [compute_backoff(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_monitor_connect_ok_is_connected_and_healthy() -> None:
    monitor, _, _, changes = make()
    assert monitor.connect()
    monitor.require_connected()
    assert monitor.status()["state"] == "connected"
    assert changes == [ConnectionChange(ConnectionState.DISCONNECTED, ConnectionState.CONNECTED, "connected")]


def test_monitor_detects_lost_terminal_and_callers_fail_fast() -> None:
    monitor, fake, _, changes = make()
    monitor.connect()
    fake.reachable = False
    assert monitor.poll() == 1.0
    assert monitor.state is ConnectionState.LOST and changes[-1].to_state is ConnectionState.LOST
    with pytest.raises(ServiceUnavailableError) as err:
        monitor.require_connected()
    assert err.value.status_code == 503 and err.value.code == "terminal_unavailable"
    assert "No IPC connection" in err.value.message


def test_monitor_detects_terminal_without_trade_server() -> None:
    monitor, fake, _, _ = make()
    monitor.connect()
    fake.connected = False
    monitor.poll()
    assert monitor.state is ConnectionState.LOST and "no connection" in monitor.reason


def test_monitor_reconnects_with_doubling_backoff_then_recovers() -> None:
    monitor, fake, clock, changes = make()
    monitor.connect()
    fake.reachable = False
    waits = [monitor.poll()]
    for _ in range(7):
        clock.t += waits[-1]
        waits.append(monitor.poll())
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]
    assert monitor.failed_attempts == 7
    clock.t += 30
    assert monitor.poll() == 30  # not due yet: no attempt made early
    assert monitor.failed_attempts == 7
    fake.reachable = True
    clock.t += 30
    monitor.poll()
    assert monitor.state is ConnectionState.CONNECTED and monitor.failed_attempts == 0
    assert [c.to_state for c in changes] == [
        ConnectionState.CONNECTED,
        ConnectionState.LOST,
        ConnectionState.CONNECTED,
    ]


def test_monitor_failed_first_connect_enters_backoff() -> None:
    monitor, fake, _, _ = make()
    fake.reachable = False
    assert not monitor.connect()
    status = monitor.status()
    assert status["state"] == "lost" and status["next_attempt_in_s"] == 2.0
    assert "MetaTrader 5 x64 not found" in status["reason"]


def test_monitor_disconnect_on_request_stops_reconnecting() -> None:
    monitor, fake, clock, _ = make()
    monitor.connect()
    monitor.disconnect()
    clock.t += 3600
    monitor.poll()
    assert monitor.state is ConnectionState.DISCONNECTED and not fake.initialized
    with pytest.raises(ServiceUnavailableError, match="POST /connect"):
        monitor.require_connected()
