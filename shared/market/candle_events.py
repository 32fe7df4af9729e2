"""The `candle.closed` event's payload: written by the data service, read by the pattern and strategy services.

`{"symbol": ..., "timeframe": ..., "bar": {<every RATES_DTYPE field>: value}}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shared.market.records import RATES_DTYPE


def candle_closed(symbol: str, timeframe: str, bar: np.void) -> dict[str, Any]:
    """The payload of one closed bar (a RATES_DTYPE record)."""
    names = RATES_DTYPE.names or ()
    return {"symbol": symbol, "timeframe": timeframe, "bar": {n: bar[n].item() for n in names}}


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
