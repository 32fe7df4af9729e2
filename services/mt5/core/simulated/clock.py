"""Clocks of the simulated terminal: real time, or a replay of the past at any speed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol


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
    already collected and the orders already filled. `anchor` holds the run's first start; without a run
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
        return int(saved["start_ms"]) + int((now - int(saved["wall_ms"])) * speed)
    first = now if start_ms is None else start_ms
    anchor.parent.mkdir(parents=True, exist_ok=True)
    anchor.write_text(json.dumps({**key, "start_ms": first, "wall_ms": now}))
    return first


def replay_origin_ms(anchor: Path, start_ms: int | None, resumed_ms: int) -> int:
    """Where this replay began: `start_ms`, or (None: the start-up time) the first start of the platform
    run kept in `anchor`, so a restarted terminal stays in the world it began."""
    if start_ms is not None:
        return start_ms
    try:
        return int(json.loads(anchor.read_text())["start_ms"])
    except (OSError, ValueError, KeyError, TypeError):
        return resumed_ms
