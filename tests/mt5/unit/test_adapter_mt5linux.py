"""The mt5linux adapter: the same wrapper over an rpyc bridge, refusing to reach beyond loopback."""

from __future__ import annotations

import pytest

from services.mt5.core.adapters.mt5linux import DEFAULT_PORT, Mt5LinuxTerminal, is_loopback
from shared.market import mt5_constants as mt5
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5

NOW_MS = 1_763_557_234_567


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_is_loopback_accepts_loopback(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["10.0.0.5", "0.0.0.0", "example.com", "192.168.1.10"])
def test_mt5linux_remote_host_refused_with_reason(host: str) -> None:
    with pytest.raises(ValueError, match="allow_remote"):
        Mt5LinuxTerminal(host=host)


def test_mt5linux_remote_host_allowed_explicitly() -> None:
    assert Mt5LinuxTerminal(host="10.0.0.5", allow_remote=True).host == "10.0.0.5"


def test_mt5linux_connects_lazily_to_configured_host_and_port() -> None:
    opened: list[tuple[str, int]] = []
    fake = FakeMetaTrader5(now_ms=lambda: NOW_MS)

    def bridge(host: str, port: int) -> FakeMetaTrader5:
        opened.append((host, port))
        return fake

    terminal = Mt5LinuxTerminal(
        host="localhost", port=18999, bridge_factory=bridge, symbol_suffix="m", server_time_offset=7200
    )
    assert opened == []
    assert terminal.initialize()
    assert opened == [("localhost", 18999)]
    tick = terminal.symbol_info_tick("EURUSD")
    assert tick.time_msc == fake.market.last_tick("EURUSD", NOW_MS + 1)["time_msc"]


def test_mt5linux_dropped_bridge_reconnects_on_next_call() -> None:
    fakes = [FakeMetaTrader5(now_ms=lambda: NOW_MS) for _ in range(2)]
    terminal = Mt5LinuxTerminal(bridge_factory=lambda host, port: fakes.pop(0))
    assert terminal.initialize()

    def drop(name: str) -> None:
        raise EOFError("connection closed by peer")

    terminal._module.on_call = drop
    assert terminal.terminal_info() is None
    assert terminal.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_CONNECT
    assert terminal.initialize() and terminal.terminal_info().connected
    assert fakes == []


def test_mt5linux_package_missing_fails_initialize_cleanly() -> None:
    terminal = Mt5LinuxTerminal(port=DEFAULT_PORT)
    assert terminal.initialize() is False
    assert terminal.last_error()[0] == mt5.LastError.INTERNAL_FAIL_INIT
