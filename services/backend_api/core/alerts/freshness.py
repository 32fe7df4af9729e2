"""When an event may fire an alert: never a backfill, never older than the bound by the market's clock.

Market events (ticks, candles, patterns, broker events) carry the market time they happened at; their age
is measured against the newest market time the hub has seen (ticks and `candle.closed`'s `market_ms`), which
never goes back within one market world. Platform events (service and instance states, jobs) have no
market time; their envelope's `ts` is measured against the service's clock (DESIGN §11).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared import event_catalog as ev
from shared.market.timeframes import get_timeframe


class MarketNow:
    """The newest market time seen in events (epoch ms), reset when the market world changes."""

    def __init__(self) -> None:
        self._ms: int | None = None

    def observe(self, market_ms: int | None) -> None:
        if market_ms is not None and (self._ms is None or market_ms > self._ms):
            self._ms = market_ms

    def reset(self) -> None:
        self._ms = None

    def now_ms(self) -> int | None:
        return self._ms


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _bar_close_ms(data: Mapping[str, Any], open_s: Any) -> int | None:
    open_ = _int(open_s)
    try:
        timeframe = get_timeframe(str(data.get("timeframe", "")))
    except ValueError:  # an unknown timeframe
        return None
    return None if open_ is None else timeframe.next_open(open_) * 1000


def market_time_ms(event_type: str, data: Mapping[str, Any]) -> int | None:
    """The market time an event happened at (epoch ms), or None for an event that has none."""
    if event_type == ev.TICK:
        return _int(data.get("time_msc"))
    if event_type == ev.CANDLE_CLOSED:
        bar = data.get("bar")
        return _bar_close_ms(data, bar.get("time")) if isinstance(bar, dict) else None
    if event_type == ev.PATTERN_DETECTED:
        return _bar_close_ms(data, data.get("time"))
    if event_type.startswith("order."):
        return _int(data.get("time_done_msc")) or _int(data.get("time_setup_msc"))
    if event_type in (ev.ACCOUNT_STOP_OUT, ev.ACCOUNT_MARGIN_CALL):
        return _int(data.get("time_msc"))
    return None


def is_market_event(event_type: str) -> bool:
    return event_type in (
        ev.TICK,
        ev.CANDLE_CLOSED,
        ev.PATTERN_DETECTED,
        ev.ACCOUNT_STOP_OUT,
        ev.ACCOUNT_MARGIN_CALL,
    ) or (event_type.startswith("order."))


def stale_reason(
    event: Mapping[str, Any], *, market_now_ms: int | None, wall_now_ms: int, max_age_s: float
) -> str | None:
    """Why `event` must not fire an alert, or None when it is news."""
    event_type, data = str(event.get("type", "")), event.get("data")
    if not isinstance(data, dict):
        return "malformed event"
    if data.get("backfill") is True or (
        event_type in (ev.CANDLE_CLOSED, ev.PATTERN_DETECTED) and data.get("backfill") is not False
    ):
        return "backfill: history, not news"
    max_age_ms = max_age_s * 1000
    if is_market_event(event_type):
        happened = market_time_ms(event_type, data)
        if happened is None:
            return "no market time"
        now = market_now_ms
        if event_type == ev.CANDLE_CLOSED and (published := _int(data.get("market_ms"))) is not None:
            now = max(now or 0, published)
        if now is None:
            return "market time unknown"
        age_ms = now - happened
    else:
        ts = _int(event.get("ts"))
        if ts is None:
            return "no time stamp"
        age_ms = wall_now_ms - ts
    if age_ms > max_age_ms:
        return f"stale: {age_ms / 1000:.1f} s old (max {max_age_s:g} s)"
    return None
