"""Whether a closed candle is still news: live instances act only on candles that closed moments ago.

Ages are read on the market's clock (real time, a replay clock or a terminal's server time), as far as this
service knows it from the data service's events, and count trading hours only: the last bar of Friday is
acted on at Sunday's first tick, the open of the next bar, exactly as the backtest fills it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.candle_events import ClosedCandle
from shared.market.timeframes import Timeframe


class NewestMarketTime:
    """The newest market time seen in candle events (epoch ms); it never goes back. Unlike
    shared.market.clock.MarketClock it does not extrapolate: a candle is old by what the market has shown."""

    def __init__(self) -> None:
        self._ms: int | None = None

    def observe(self, market_ms: int | None) -> None:
        if market_ms is not None and (self._ms is None or market_ms > self._ms):
            self._ms = market_ms

    def now_ms(self) -> int | None:
        return self._ms


@dataclass(frozen=True, slots=True)
class FreshnessRule:
    """How old a candle may be, by its timeframe, when an instance acts on it."""

    max_age_bars: float
    max_age_s: Mapping[str, float] = field(default_factory=dict)
    calendar: WeeklyCalendar = FX_CALENDAR

    def bound_s(self, timeframe: Timeframe, bar_time: int) -> float:
        """The configured seconds for the timeframe, else `max_age_bars` of the bar's length."""
        if timeframe.name in self.max_age_s:
            return self.max_age_s[timeframe.name]
        return self.max_age_bars * (timeframe.next_open(bar_time) - bar_time)

    def age_s(self, timeframe: Timeframe, bar_time: int, now_ms: int) -> float:
        """Trading seconds from the bar's close to `now_ms` (0 when the clock is not past the close)."""
        close_s, end_s = timeframe.next_open(bar_time), -(-now_ms // 1000)
        intervals = self.calendar.open_intervals(close_s, end_s)
        return sum(min(b * 1000, now_ms) - a * 1000 for a, b in intervals) / 1000

    def skip_reason(
        self, candle: ClosedCandle, timeframe: Timeframe, market_now_ms: int | None
    ) -> dict[str, Any] | None:
        """Why `candle` must not be traded (a summary to record), or None when it is fresh."""
        if candle.backfill:
            return {"skipped": "backfill"}
        now_ms = max(filter(None, (market_now_ms, candle.market_ms)), default=None)
        if now_ms is None:
            return {"skipped": "no_market_time"}
        age, bound = self.age_s(timeframe, candle.time, now_ms), self.bound_s(timeframe, candle.time)
        if age > bound:
            return {"skipped": "stale", "age_s": round(age, 3), "max_age_s": bound}
        return None
