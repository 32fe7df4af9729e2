"""Decision holds of the replay clock (holds.py): the market stops at the first tick of a registered stream's
new bar until the bar is released, the hold times out or the lease lapses, and then runs on continuously."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.mt5.core.simulated.clock import ReplayClock
from services.mt5.core.simulated.holds import HeldClock, first_tick_of
from services.mt5.core.simulated.market import DeterministicMarket
from services.mt5.main import market_world
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import get_timeframe
from shared.service_app import SUPERVISOR_PID_ENV
from tests.mt5.api.support import mt5_config
from tests.support.waits import wait_until

START_MS = int(datetime(2025, 11, 19, 13, 1, 30, tzinfo=UTC).timestamp() * 1000)  # a Wednesday
FRIDAY_MS = int(datetime(2025, 11, 21, 21, 58, 0, tzinfo=UTC).timestamp() * 1000)
SPEED = 100.0
M5, M1 = get_timeframe("M5"), get_timeframe("M1")
MARKET = DeterministicMarket(DEFAULT_SYMBOLS, seed=3)


class Wall:
    """A monotonic source moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def held_clock(
    wall: Wall, start_ms: int = START_MS, timeout_s: float = 2.0, lease_s: float = 30.0
) -> HeldClock:
    raw = ReplayClock(start_ms, SPEED, monotonic=wall)
    return HeldClock(
        raw,
        symbols=[s.name for s in DEFAULT_SYMBOLS],
        speed=SPEED,
        first_tick=first_tick_of(MARKET),
        timeout_s=timeout_s,
        lease_s=lease_s,
        monotonic=wall,
    )


def first_tick(symbol: str, boundary_s: int) -> int:
    ticks = MARKET.ticks_forward(symbol, boundary_s * 1000, 1, boundary_s * 1000 + 4 * 86_400_000)
    return int(ticks["time_msc"][0])


def wall_to(wall: Wall, clock: HeldClock, market_ms: int) -> None:
    """Move the wall so that the unheld clock would be at `market_ms`."""
    wall.now += (market_ms - clock.now_ms()) / SPEED / 1000


def test_held_clock_stops_at_the_first_tick_of_the_next_bar_until_released() -> None:
    wall = Wall()
    clock = held_clock(wall)
    clock.register("strategy", [("EURUSD", M5)])
    boundary = M5.next_open(M5.floor(START_MS // 1000))
    point = first_tick("EURUSD", boundary)
    assert boundary * 1000 <= point

    wall_to(wall, clock, point + 60_000)  # a market minute past the tick, under the 2 s (200 s) timeout
    assert clock.now_ms() == point
    wall.now += 1.0
    assert clock.now_ms() == point
    assert clock.read()["pending"][0] | {"holding": True} == {
        "symbol": "EURUSD",
        "timeframe": "M5",
        "boundary": boundary,
        "at_ms": point,
        "holding": True,
    }

    assert clock.release("EURUSD", M5, boundary - 300) is True
    # Continuous: the clock runs on from the held tick, not from where the raw time got to.
    assert clock.now_ms() == point
    wall.now += 0.5
    assert clock.now_ms() == point + 50_000
    # The stream holds again at the first tick of the bar after.
    assert clock.read()["pending"][0]["at_ms"] == first_tick("EURUSD", boundary + 300)
    assert clock.timed_out == 0


def test_held_clock_ahead_of_says_how_far_the_hold_of_a_candle_is() -> None:
    wall = Wall()
    clock = held_clock(wall)
    clock.register("strategy", [("EURUSD", M5)])
    boundary = M5.next_open(M5.floor(START_MS // 1000))
    point = first_tick("EURUSD", boundary)
    candle = boundary - 300
    wall_to(wall, clock, boundary * 1000 - 1000)
    assert clock.ahead_of("EURUSD", M5, candle) == (
        False,
        boundary * 1000 - 1000,
        point - boundary * 1000 + 1000,
    )
    # The next candle's hold is further on: first the clock must get past this one (look again).
    assert clock.ahead_of("EURUSD", M5, boundary) == (
        False,
        boundary * 1000 - 1000,
        point - boundary * 1000 + 1000,
    )
    wall_to(wall, clock, point + 5000)
    assert clock.ahead_of("EURUSD", M5, candle) == (True, point, None)
    assert clock.ahead_of("EURUSD", M5, boundary) == (False, point, 0)
    clock.release("EURUSD", M5, candle)
    assert clock.ahead_of("EURUSD", M5, candle) == (False, point, None)  # past it: nothing to wait for
    assert clock.ahead_of("EURUSD", M1, candle) == (False, point, None)  # a stream nobody registered


def test_held_clock_release_of_a_bar_not_pending_changes_nothing() -> None:
    wall = Wall()
    clock = held_clock(wall)
    clock.register("strategy", [("EURUSD", M5)])
    boundary = M5.next_open(M5.floor(START_MS // 1000))
    wall_to(wall, clock, first_tick("EURUSD", boundary) + 1000)
    held = clock.now_ms()
    assert clock.release("EURUSD", M5, boundary - 600) is False
    assert clock.release("EURUSD", M1, boundary - 60) is False  # a stream nobody registered
    assert clock.now_ms() == held


def test_held_clock_times_out_after_the_wall_timeout_and_counts_it(caplog: pytest.LogCaptureFixture) -> None:
    wall = Wall()
    clock = held_clock(wall, timeout_s=2.0)
    clock.register("strategy", [("EURUSD", M1)])
    boundary = M1.next_open(M1.floor(START_MS // 1000))
    point = first_tick("EURUSD", boundary)
    wall_to(wall, clock, point)
    wall.now += 1.9
    assert clock.now_ms() == point
    with caplog.at_level(logging.WARNING):
        wall.now += 0.2  # 2.1 s held: the hold ended 0.1 s ago
        assert clock.now_ms() == point + 10_000
        assert clock.timed_out == 1
        # The next bars time out too (nobody answers): counted, but logged once for the holder.
        for _ in range(3):
            wall_to(wall, clock, clock.read()["pending"][0]["at_ms"])
            wall.now += 2.5
            clock.now_ms()
    assert clock.timed_out == 4
    assert len([r for r in caplog.records if "timed out" in r.getMessage()]) == 1


def test_held_clock_drops_a_registration_whose_lease_lapsed() -> None:
    wall = Wall()
    clock = held_clock(wall, timeout_s=1000.0, lease_s=30.0)
    clock.register("strategy", [("EURUSD", M5)])
    point = clock.read()["pending"][0]["at_ms"]
    wall_to(wall, clock, point)
    clock.register("strategy", [("EURUSD", M5)])  # renewed: the same stream keeps its hold
    wall.now += 29.0
    assert clock.now_ms() == point
    clock.register("strategy", [("EURUSD", M5)])
    wall.now += 29.0
    assert clock.now_ms() == point
    wall.now += 2.0  # 31 s without renewal: dropped, and the clock runs on from the held tick
    assert clock.now_ms() == point
    assert clock.read()["pending"] == [] and clock.read()["holders"] == []
    wall.now += 1.0
    assert clock.now_ms() == point + 100_000


def test_held_clock_waits_for_every_stream_held_at_the_same_tick() -> None:
    wall = Wall()
    clock = held_clock(wall)
    clock.register("strategy", [("EURUSD", M5), ("EURUSD", M1), ("GBPUSD", M5)])
    boundary = M5.next_open(M5.floor(START_MS // 1000))
    eur, gbp = first_tick("EURUSD", boundary), first_tick("GBPUSD", boundary)
    # M1 holds first at every minute before the M5 boundary.
    while (pending := clock.read()["pending"])[0]["at_ms"] < min(eur, gbp):
        first = pending[0]
        wall_to(wall, clock, first["at_ms"] + 1000)
        assert clock.now_ms() == first["at_ms"]
        tf = get_timeframe(first["timeframe"])
        assert clock.release(first["symbol"], tf, first["boundary"] - tf.seconds)
    wall_to(wall, clock, max(eur, gbp) + 1000)
    early, late = sorted([("EURUSD", eur), ("GBPUSD", gbp)], key=lambda p: p[1])
    assert clock.now_ms() == early[1]
    if early[0] == "EURUSD":
        assert clock.release("EURUSD", M1, boundary - 60)
        assert clock.now_ms() == early[1]  # the M5 stream of the same tick still holds
        assert clock.release("EURUSD", M5, boundary - 300)
    else:
        assert clock.release("GBPUSD", M5, boundary - 300)
    wall.now += 0.01
    assert early[1] < clock.now_ms() <= late[1]


def test_held_clock_over_a_weekend_holds_at_the_first_tick_after_it() -> None:
    wall = Wall()
    clock = held_clock(wall, start_ms=FRIDAY_MS)
    clock.register("strategy", [("EURUSD", get_timeframe("H1"))])
    point = clock.read()["pending"][0]["at_ms"]
    assert point - FRIDAY_MS > 40 * 3600 * 1000  # Sunday evening
    assert point == first_tick("EURUSD", int(datetime(2025, 11, 21, 22, tzinfo=UTC).timestamp()))


def test_replay_restarted_in_the_same_run_resumes_where_the_held_clock_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wall time spent held is not market time: a terminal restarted within the platform run (the
    supervisor's id unchanged) continues at the held clock's time, not ahead by held seconds x speed."""
    monkeypatch.setenv(SUPERVISOR_PID_ENV, "4242")
    speed = 100.0
    start_s = M1.next_open(M1.floor(START_MS // 1000)) - 1  # the first M1 hold a market second away
    settings = mt5_config(
        tmp_path,
        simulated={
            "seed": 3,
            "clock": "replay",
            "replay_start": start_s,
            "replay_speed": speed,
            "replay_hold_timeout_s": 60.0,
        },
    )
    first = market_world(settings, None, MARKET)
    assert first.holds is not None
    first.holds.register("strategy", [("EURUSD", M1)])
    wait_until(lambda: first.holds is not None and first.holds.read()["pending"][0]["holding"], 10, "held")
    held_at = time.monotonic()
    # A wall second held is 100 market seconds the market must not skip.
    wait_until(lambda: time.monotonic() - held_at >= 1.0, 5, "a wall second held")
    first.holds.register("strategy", [])  # the hold ends; the clock runs on from the held tick

    before = time.monotonic()
    was = first.now_ms()
    resumed = market_world(settings, None, MARKET).now_ms()  # the restarted terminal's clock
    elapsed_ms = (time.monotonic() - before) * speed * 1000
    # Slack for the anchor's wall clock against the replay's monotonic one (a few ms at 100x).
    assert was - 500 <= resumed <= was + elapsed_ms + 500
