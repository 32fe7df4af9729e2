"""The market's clock as the mt5 service tells it (`GET /clock`), running on between reads: ages, lags and
"is this in the future" are measured on it (DESIGN §11), not on the wall's, which a replay is not on.

The data service re-reads it periodically (it also follows the market's world); the backtesting service
reads it when a run is asked for. Both refuse a range the market has not reached with `refuse_future`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from pydantic import ValidationError

from shared.contracts.mt5 import Mt5Client
from shared.errors import InvalidInputError, PlatformError
from shared.market.world import MarketClockRead
from shared.utils import get_timestamp_ms


async def read_market_clock(mt5: Mt5Client) -> MarketClockRead | None:
    """The mt5 service's `GET /clock`, or None when it cannot say (down, or an older service)."""
    try:
        return await mt5.clock()
    except (PlatformError, ValidationError, ValueError):
        return None


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

    async def refresh(self, mt5: Mt5Client) -> MarketClockRead | None:
        """Read the mt5 service's clock now; when it cannot tell, the last reading runs on."""
        reading = await read_market_clock(mt5)
        if reading is not None:
            self.update(reading)
        return reading

    def now_ms(self) -> int:
        wall = self._wall_ms()
        if self._reading is None:
            return wall
        return self._reading.now_ms + round((wall - self._read_at_ms) * self._reading.speed)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")


def refuse_future(market_now_ms: int, from_s: int, to_s: int | None = None) -> None:
    """422 `range_in_future` naming the market's now: for a range that starts after it (there is nothing to
    fetch, complete or test yet, and "fill the gaps" would loop: a read of the future finds nothing), and,
    when `to_s` is given, for one that ends after it (a run cannot include bars that do not exist yet)."""
    now_iso = _iso(market_now_ms)
    for field, time_s, what in (("from", from_s, "starts"), ("to", to_s, "ends")):
        if time_s is not None and time_s * 1000 > market_now_ms:
            window = {"from": from_s} if to_s is None else {"from": from_s, "to": to_s}
            raise InvalidInputError(
                f"the range {what} after the market's current time ({now_iso}): it has no data yet",
                code="range_in_future",
                details={"field": field, **window, "market_now": now_iso, "market_now_ms": market_now_ms},
            )
