"""Clocks: real time from the wall source, replay time from a start and a speed."""

from __future__ import annotations

import pytest

from services.mt5.core.simulated.clock import RealClock, ReplayClock


class FakeMonotonic:
    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def test_real_clock_converts_wall_nanoseconds_to_milliseconds() -> None:
    assert RealClock(wall_ns=lambda: 1_700_000_000_123_456_789).now_ms() == 1_700_000_000_123


def test_real_clock_default_source_is_current_time() -> None:
    import time

    before = time.time_ns() // 1_000_000
    now = RealClock().now_ms()
    assert before <= now <= time.time_ns() // 1_000_000


def test_replay_clock_starts_at_start() -> None:
    assert ReplayClock(1_763_510_400_000, speed=60, monotonic=FakeMonotonic()).now_ms() == 1_763_510_400_000


def test_replay_clock_runs_speed_times_faster() -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(1_763_510_400_000, speed=3600, monotonic=mono)
    mono.value += 2.5
    assert clock.now_ms() == 1_763_510_400_000 + 2.5 * 3600 * 1000


def test_replay_clock_real_speed_tracks_monotonic_milliseconds() -> None:
    mono = FakeMonotonic()
    clock = ReplayClock(0, monotonic=mono)
    mono.value += 0.0015
    assert clock.now_ms() == 1


@pytest.mark.parametrize("speed", [0, -1.0])
def test_replay_clock_non_positive_speed_refused(speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        ReplayClock(0, speed=speed)
