"""Whether a running collector makes progress (issue 16): a terminal that answers every poll with nothing
while the market's clock moves on, or a read position ahead of the market (a replay restarted earlier
than what is stored), would otherwise look like a healthy collector at 0 ticks/s.

Quiet time is counted on the market's clock, within the trading session the market is in now (its
calendar), so a closed market is not a stall and the minutes before Friday's close do not make Sunday's
open one. A stall also needs some wall time without progress: at a fast replay's speed a market minute
passes between two polls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from shared.market.calendar import FX_CALENDAR, WeeklyCalendar


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class StallChange:
    """A change of the stalled state, to be reported once."""

    active: bool
    since_ms: int  # the market's time of the last progress
    market_ms: int
    reason: str


class StallWatch:
    """Tracks the last progress of one collector on the market's and the wall's clocks."""

    def __init__(
        self, stall_after_s: float, min_wall_s: float, calendar: WeeklyCalendar = FX_CALENDAR
    ) -> None:
        self._after_ms = stall_after_s * 1000
        self._min_wall_ms = min_wall_s * 1000
        self._calendar = calendar
        self._progress_market_ms: int | None = None
        self._progress_wall_ms = 0
        self.since_ms: int | None = None  # set while stalled
        self.reason: str | None = None

    @property
    def stalled(self) -> bool:
        return self.since_ms is not None

    def progress(self, market_ms: int, wall_ms: int) -> StallChange | None:
        """A poll brought new ticks (or collection (re)started): the stall, if any, is over."""
        self._progress_market_ms, self._progress_wall_ms = market_ms, wall_ms
        if self.since_ms is None:
            return None
        return self.end(market_ms, "ticks arrive again")

    def idle(self, read_from_ms: int, market_ms: int, wall_ms: int) -> StallChange | None:
        """A poll brought nothing new from `read_from_ms`: a stall starts when the session open now has run
        `stall_after_s` and the wall clock `min_wall_s` since the last progress."""
        if self.since_ms is not None:
            return None
        if self._progress_market_ms is None:  # the first poll of this collector: it counts from here
            self._progress_market_ms, self._progress_wall_ms = market_ms, wall_ms
            return None
        since = self._progress_market_ms
        if (
            wall_ms - self._progress_wall_ms < self._min_wall_ms
            or self._quiet_ms(since, market_ms) < self._after_ms
        ):
            return None
        self.since_ms, self.reason = since, _reason(read_from_ms, market_ms)
        return StallChange(True, since, market_ms, self.reason)

    def end(self, market_ms: int, why: str) -> StallChange | None:
        """The stall (if any) is over, for `why` (ticks again, collection stopped)."""
        if self.since_ms is None:
            return None
        change = StallChange(False, self.since_ms, market_ms, why)
        self.since_ms = self.reason = None
        return change

    def _quiet_ms(self, from_ms: int, to_ms: int) -> int:
        """Milliseconds (to the second) of the session open at `to_ms` that passed after `from_ms`; 0 while
        the market is closed."""
        now_s = to_ms // 1000
        if not self._calendar.is_open(now_s):
            return 0
        intervals = self._calendar.open_intervals(from_ms // 1000, now_s)
        return 1000 * (intervals[-1][1] - intervals[-1][0]) if intervals else 0


def _reason(read_from_ms: int, market_ms: int) -> str:
    if read_from_ms > market_ms:
        return (
            f"the newest stored tick ({_iso(read_from_ms)}) is ahead of the market's clock ({_iso(market_ms)}): "
            "the replay was started earlier than what is stored; collection goes on once the market passes it"
        )
    return f"the market's clock is at {_iso(market_ms)} but no tick after {_iso(read_from_ms)} arrives"
