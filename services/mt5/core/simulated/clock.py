"""Clocks of the simulated terminal: real time, or a replay of the past at any speed."""

from __future__ import annotations

import time
from collections.abc import Callable
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
