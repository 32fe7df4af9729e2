"""The `candle.closed` event's payload: written by the data service, read by the pattern and strategy services.

`{"symbol": ..., "timeframe": ..., "bar": {<every RATES_DTYPE field>: value}, "market_ms": ..., "backfill": ...}`

`market_ms` is the market's clock (real time, replay or a terminal's, in UTC) as the publisher knew it, and
`backfill` is true for a bar that closed before collection caught up with the market (a backfill after a
start or a gap, or bars rebuilt from stored ticks after a crash): a notification of the past, never a
signal to trade now (DESIGN §11).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from shared.event_payloads import CandleClosed, OHLCData
from shared.market.records import RATES_DTYPE


@dataclass(frozen=True, slots=True)
class ClosedCandle:
    """One `candle.closed` event as its readers use it."""

    symbol: str
    timeframe: str
    bar: np.ndarray  # one RATES_DTYPE row
    market_ms: int | None  # None from a publisher that does not say (older versions)
    backfill: bool

    @property
    def time(self) -> int:
        return int(self.bar["time"][0])


def candle_closed(
    symbol: str, timeframe: str, bar: np.void, *, market_ms: int, backfill: bool
) -> CandleClosed:
    """The payload of one closed bar (a RATES_DTYPE record)."""
    names = RATES_DTYPE.names or ()
    return CandleClosed(
        symbol=symbol,
        timeframe=timeframe,
        bar=OHLCData(**dict(zip(names, bar.item(), strict=True))),
        market_ms=market_ms,
        backfill=backfill,
    )


def read_candle(data: Mapping[str, Any]) -> ClosedCandle | None:
    """The candle of a payload (symbol and timeframe upper-cased), or None when it is malformed."""
    bar = bar_from_candle(data)
    market_ms = data.get("market_ms")
    if bar is None or not (market_ms is None or (isinstance(market_ms, int) and market_ms >= 0)):
        return None
    return ClosedCandle(
        symbol=str(data.get("symbol", "")).upper(),
        timeframe=str(data.get("timeframe", "")).upper(),
        bar=bar,
        market_ms=market_ms,
        # Anything but an explicit false (a missing flag included) is a backfill: never trade a doubtful candle.
        backfill=data.get("backfill") is not False,
    )


def bar_from_candle(data: Mapping[str, Any]) -> np.ndarray | None:
    """A one-row RATES_DTYPE array from a payload, or None when a price field is missing or not a number
    (volumes and spread default to 0)."""
    bar = data.get("bar")
    if not isinstance(bar, dict):
        return None
    record = np.zeros(1, dtype=RATES_DTYPE)
    try:
        for name in ("time", "open", "high", "low", "close"):
            record[name] = bar[name]
        for name in ("tick_volume", "spread", "real_volume"):
            record[name] = bar.get(name, 0)
    except (KeyError, TypeError, ValueError):
        return None
    return record
