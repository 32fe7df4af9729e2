"""Clocks of the simulated terminal: real time, or a replay of the past at any speed."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class Clock(Protocol):
    """A source of the current time as epoch milliseconds (UTC)."""

    def now_ms(self) -> int: ...


class RealClock:
    """Wall-clock time."""

    def __init__(self, wall_ns: Callable[[], int] = time.time_ns) -> None:
        self._wall_ns = wall_ns

    def now_ms(self) -> int:
        return self._wall_ns() // 1_000_000


class ReplayClock:
    """Time that starts at `start_ms` and runs `speed` times faster than the monotonic source."""

    def __init__(
        self, start_ms: int, speed: float = 1.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start_ms = start_ms
        self.speed = speed
        self._monotonic = monotonic
        self._origin = monotonic()

    def now_ms(self) -> int:
        return self.start_ms + int((self._monotonic() - self._origin) * self.speed * 1000)


def resumed_replay_start_ms(
    anchor: Path,
    start_ms: int | None,
    speed: float,
    run_id: str | None,
    wall_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
) -> int:
    """Where a replay clock starts: at `start_ms` (None: the wall time) on the first start of a platform
    run (`run_id`: the supervisor's), or, on a restart within the same run, where that replay has got to by
    now. So a crashed and restarted terminal continues the market instead of rewinding it under the ticks
    already collected and the orders already filled. `anchor` holds the run's first start and the market
    time spent held so far (replay_held_saver: the holds stop the market, not the wall); without a run
    id nothing is kept."""
    now = wall_ms()
    if run_id is None:
        return now if start_ms is None else start_ms
    key = {"run": run_id, "replay_start_ms": start_ms, "speed": speed}
    try:
        saved = json.loads(anchor.read_text())
    except (OSError, ValueError):
        saved = None
    if isinstance(saved, dict) and all(saved.get(k) == v for k, v in key.items()):
        ran_ms = int((now - int(saved["wall_ms"])) * speed)
        return int(saved["start_ms"]) + ran_ms - int(saved.get("held_ms", 0))
    first = now if start_ms is None else start_ms
    _write_anchor(anchor, {**key, "start_ms": first, "wall_ms": now})
    return first


def replay_held_ms(anchor: Path) -> int:
    """The market ms the replay of this platform run held before this start (0 when none is kept)."""
    try:
        return int(json.loads(anchor.read_text()).get("held_ms", 0))
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


def replay_held_saver(anchor: Path, before_ms: int) -> Callable[[int], None]:
    """What keeps the run's time held in `anchor`, told the market ms a HeldClock started now has spent
    held: added to `before_ms`, the time held before this start (already taken out of the start by
    resumed_replay_start_ms), so the next restart resumes where the held clock is, not ahead by the
    wall time held x speed. A failure to write is logged; the restart would then be ahead again."""

    def save(held_ms: int) -> None:
        try:
            saved = json.loads(anchor.read_text())
            _write_anchor(anchor, {**saved, "held_ms": before_ms + held_ms})
        except (OSError, ValueError, TypeError) as exc:
            log.warning("cannot keep the replay clock's held time in %s: %s", anchor, exc)

    return save


def _write_anchor(anchor: Path, content: dict[str, object]) -> None:
    anchor.parent.mkdir(parents=True, exist_ok=True)
    tmp = anchor.with_name(anchor.name + ".tmp")
    tmp.write_text(json.dumps(content))
    os.replace(tmp, anchor)  # a crash leaves the old anchor or the new one, never half of one


def replay_origin_ms(anchor: Path, start_ms: int | None, resumed_ms: int) -> int:
    """Where this replay began: `start_ms`, or (None: the start-up time) the first start of the platform
    run kept in `anchor`, so a restarted terminal stays in the world it began."""
    if start_ms is not None:
        return start_ms
    try:
        return int(json.loads(anchor.read_text())["start_ms"])
    except (OSError, ValueError, KeyError, TypeError):
        return resumed_ms
