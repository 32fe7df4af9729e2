"""StallWatch: quiet time counted on the market's clock while its calendar is open, with a wall-time floor."""

from __future__ import annotations

from services.data.core.stall import StallWatch

FRIDAY_2024_01_12_21_00 = 1_705_093_200_000  # an hour before the FX close (22:00 UTC in winter)
SATURDAY_2024_01_13_12_00 = 1_705_147_200_000
SUNDAY_2024_01_14_22_00 = 1_705_269_600_000  # the FX open
MINUTE = 60_000


def test_stall_watch_quiet_open_market_stalls_once_and_recovers_on_ticks() -> None:
    watch = StallWatch(stall_after_s=60, min_wall_s=0)
    t = FRIDAY_2024_01_12_21_00
    assert watch.progress(t, 0) is None

    assert watch.idle(t, t + MINUTE - 1000, 1) is None
    started = watch.idle(t, t + MINUTE, 2)
    again = watch.idle(t, t + 5 * MINUTE, 3)
    ended = watch.progress(t + 5 * MINUTE, 4)

    assert started is not None and started.active and started.since_ms == t
    assert "no tick after 2024-01-12T21:00:00Z" in started.reason
    assert again is None  # one change, however many polls see it
    assert ended is not None and not ended.active and ended.since_ms == t
    assert not watch.stalled and watch.reason is None


def test_stall_watch_closed_market_is_not_a_stall_and_a_session_counts_from_its_open() -> None:
    watch = StallWatch(stall_after_s=60, min_wall_s=0)
    last_tick = FRIDAY_2024_01_12_21_00 + 58 * MINUTE  # two quiet minutes before the close
    watch.progress(last_tick, 0)

    assert watch.idle(last_tick, SATURDAY_2024_01_13_12_00, 1) is None
    assert watch.idle(last_tick, SUNDAY_2024_01_14_22_00 + 59_000, 2) is None
    stalled = watch.idle(last_tick, SUNDAY_2024_01_14_22_00 + MINUTE, 3)

    assert stalled is not None and stalled.since_ms == last_tick


def test_stall_watch_fast_replay_between_polls_is_not_a_stall() -> None:
    # At speed 3600 a poll every 100 ms of wall time sees six market minutes pass.
    watch = StallWatch(stall_after_s=60, min_wall_s=5)
    t = FRIDAY_2024_01_12_21_00 - 10 * 3_600_000
    watch.progress(t, 0)

    assert watch.idle(t, t + 6 * MINUTE, 100) is None
    assert watch.idle(t, t + 4 * 3_600_000, 4_000) is None
    assert watch.idle(t, t + 5 * 3_600_000, 5_000) is not None


def test_stall_watch_read_position_ahead_of_the_market_names_it() -> None:
    watch = StallWatch(stall_after_s=60, min_wall_s=0)
    t = FRIDAY_2024_01_12_21_00
    stored = t + 30 * MINUTE

    watch.idle(stored, t, 0)
    stalled = watch.idle(stored, t + MINUTE, 1)

    assert stalled is not None and "2024-01-12T21:30:00Z" in stalled.reason
    assert "ahead of the market's clock" in stalled.reason
    assert watch.end(t + 2 * MINUTE, "collection stopped") is not None and not watch.stalled
