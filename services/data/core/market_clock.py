"""The market's clock as the mt5 service last told it (`GET /clock`), running on between reads: ages, lags
and "is this in the future" are measured on it (DESIGN §11), and its world says where data is kept."""

from __future__ import annotations

from collections.abc import Callable

from shared.market.world import MarketClockRead
from shared.utils import get_timestamp_ms


class MarketClock:
    """The newest reading of the market's clock, extrapolated at its speed; the wall clock before any."""

    def __init__(self, wall_ms: Callable[[], int] = get_timestamp_ms) -> None:
        self._wall_ms = wall_ms
        self._reading: MarketClockRead | None = None
        self._read_at_ms = 0

    @property
    def world(self) -> str | None:
        """The world of the last reading (None: the mt5 service has not answered yet)."""
        return None if self._reading is None else self._reading.world

    def update(self, reading: MarketClockRead) -> None:
        self._reading, self._read_at_ms = reading, self._wall_ms()

    def now_ms(self) -> int:
        wall = self._wall_ms()
        if self._reading is None:
            return wall
        return self._reading.now_ms + round((wall - self._read_at_ms) * self._reading.speed)
