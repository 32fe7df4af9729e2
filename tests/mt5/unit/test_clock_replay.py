"""Clocks: real time from the wall source, replay time from a start and a speed."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.mt5.core.simulated.clock import (
    RealClock,
    ReplayClock,
    replay_held_ms,
    replay_held_saver,
    resumed_replay_start_ms,
)


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


START_MS = 1_704_675_600_000


def test_resumed_replay_start_first_start_of_a_run_is_the_configured_start(tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    assert resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 5_000) == START_MS
    assert anchor.exists()


def test_resumed_replay_start_restart_in_the_same_run_continues_where_the_replay_is(tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 5_000)
    resumed = resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 7_500)
    assert resumed == START_MS + 2_500 * 120


def test_resumed_replay_start_leaves_out_the_time_held_in_every_start_of_the_run(tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 5_000)
    replay_held_saver(anchor, replay_held_ms(anchor))(30_000)  # the first process's clock held 30 s
    resumed = resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 7_500)
    assert resumed == START_MS + 2_500 * 120 - 30_000
    assert replay_held_ms(anchor) == 30_000
    save = replay_held_saver(anchor, replay_held_ms(anchor))  # the restarted clock counts from 0 again
    save(4_000)
    save(10_000)
    resumed = resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 9_000)
    assert resumed == START_MS + 4_000 * 120 - 40_000
    # A new run starts over, nothing held.
    assert resumed_replay_start_ms(anchor, START_MS, 120, "42", wall_ms=lambda: 9_000) == START_MS
    assert resumed_replay_start_ms(anchor, START_MS, 120, "42", wall_ms=lambda: 9_001) == START_MS + 120


def test_replay_held_saver_without_an_anchor_logs_and_writes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    anchor = tmp_path / "anchor.json"
    with caplog.at_level(logging.WARNING):
        replay_held_saver(anchor, replay_held_ms(anchor))(1_000)
    assert not anchor.exists()
    assert any("held time" in r.getMessage() for r in caplog.records)


def test_resumed_replay_start_without_a_configured_start_continues_from_the_first_wall_time(
    tmp_path: Path,
) -> None:
    anchor = tmp_path / "anchor.json"
    assert resumed_replay_start_ms(anchor, None, 10, "41", wall_ms=lambda: 5_000) == 5_000
    assert resumed_replay_start_ms(anchor, None, 10, "41", wall_ms=lambda: 6_000) == 5_000 + 1_000 * 10


@pytest.mark.parametrize(
    ("run_id", "start_ms", "speed"), [("42", START_MS, 120), ("41", START_MS + 1, 120), ("41", START_MS, 60)]
)
def test_resumed_replay_start_new_run_or_changed_replay_starts_over(
    tmp_path: Path, run_id: str, start_ms: int, speed: float
) -> None:
    anchor = tmp_path / "anchor.json"
    resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 5_000)
    assert resumed_replay_start_ms(anchor, start_ms, speed, run_id, wall_ms=lambda: 9_000) == start_ms


def test_resumed_replay_start_without_a_run_keeps_nothing(tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    assert resumed_replay_start_ms(anchor, START_MS, 120, None, wall_ms=lambda: 5_000) == START_MS
    assert not anchor.exists()


def test_resumed_replay_start_unreadable_anchor_starts_over(tmp_path: Path) -> None:
    anchor = tmp_path / "anchor.json"
    anchor.write_text("{not json")
    assert resumed_replay_start_ms(anchor, START_MS, 120, "41", wall_ms=lambda: 5_000) == START_MS
