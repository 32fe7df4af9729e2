"""`server_time_offset_s: "auto"` in both real-terminal adapters against the strict fake: measured from the
newest tick, and measured again once the market has reopened after a weekend (brokers change their offset
with daylight saving, which starts and ends on weekends)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import numpy as np
import pytest

from services.mt5.core.adapters.metatrader5 import Mt5ModuleTerminal
from services.mt5.core.adapters.mt5linux import Mt5LinuxTerminal
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5

FRIDAY_MS = int(datetime(2026, 3, 27, 12, tzinfo=UTC).timestamp() * 1000)
SATURDAY_MS = int(datetime(2026, 3, 28, 12, tzinfo=UTC).timestamp() * 1000)
MONDAY_MS = int(datetime(2026, 3, 30, 9, tzinfo=UTC).timestamp() * 1000)  # after the EU clocks moved


class Now:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def now_ms(self) -> int:
        return self.ms

    def now_s(self) -> float:
        return self.ms / 1000


def mt5_module(fake: FakeMetaTrader5, now: Now) -> Mt5ModuleTerminal:
    return Mt5ModuleTerminal(module=fake, symbol_suffix="m", server_time_offset="auto", utc_now=now.now_s)


def mt5linux(fake: FakeMetaTrader5, now: Now) -> Mt5ModuleTerminal:
    return Mt5LinuxTerminal(
        bridge_factory=lambda host, port: fake,
        symbol_suffix="m",
        server_time_offset="auto",
        utc_now=now.now_s,
    )


ADAPTERS: list[Callable[[FakeMetaTrader5, Now], Mt5ModuleTerminal]] = [mt5_module, mt5linux]


@pytest.mark.parametrize("make", ADAPTERS)
def test_auto_offset_measured_again_after_the_weekend_dst_change(
    make: Callable[[FakeMetaTrader5, Now], Mt5ModuleTerminal],
) -> None:
    now = Now(FRIDAY_MS)
    fake = FakeMetaTrader5(now_ms=now.now_ms, server_offset_s=7200)  # UTC+2 in winter
    terminal = make(fake, now)
    assert terminal.initialize()
    friday = terminal.symbol_info_tick("EURUSD")
    assert friday.time_msc == fake.market.last_tick("EURUSD", FRIDAY_MS + 1)["time_msc"]

    now.ms, fake.offset_s = MONDAY_MS, 10_800  # the broker moved to UTC+3 over the weekend
    monday = terminal.symbol_info_tick("EURUSD")

    assert monday.time_msc == fake.market.last_tick("EURUSD", MONDAY_MS + 1)["time_msc"]
    # Both ways: the range asked in UTC reaches the terminal in its new server time, and comes back in UTC.
    ticks = terminal.copy_ticks_range("EURUSD", MONDAY_MS / 1000 - 60, MONDAY_MS / 1000, -1)
    assert np.array_equal(ticks, fake.market.ticks("EURUSD", MONDAY_MS - 60_000, MONDAY_MS + 1))


@pytest.mark.parametrize("make", ADAPTERS)
def test_auto_offset_keeps_its_measurement_while_a_stale_tick_says_nothing(
    make: Callable[[FakeMetaTrader5, Now], Mt5ModuleTerminal],
) -> None:
    now = Now(FRIDAY_MS)
    fake = FakeMetaTrader5(now_ms=now.now_ms, server_offset_s=7200)
    terminal = make(fake, now)
    assert terminal.initialize()
    frozen = FRIDAY_MS
    # The market has reopened, but the terminal has no new tick yet: its newest is Friday's.
    fake.now_ms = lambda: frozen
    now.ms = MONDAY_MS

    tick = terminal.symbol_info_tick("EURUSD")

    assert tick is not None
    assert tick.time_msc == fake.market.last_tick("EURUSD", FRIDAY_MS + 1)["time_msc"]  # offset still 7200


@pytest.mark.parametrize("make", ADAPTERS)
def test_auto_offset_survives_a_reconnect_while_the_market_is_closed(
    make: Callable[[FakeMetaTrader5, Now], Mt5ModuleTerminal],
) -> None:
    now = Now(FRIDAY_MS)
    fake = FakeMetaTrader5(now_ms=now.now_ms, server_offset_s=7200)
    terminal = make(fake, now)
    assert terminal.initialize()
    now.ms = SATURDAY_MS  # the terminal restarts over the weekend: nothing to measure, the last one holds

    assert terminal.initialize()
    tick = terminal.symbol_info_tick("EURUSD")

    assert tick is not None and tick.time_msc == fake.market.last_tick("EURUSD", SATURDAY_MS + 1)["time_msc"]
