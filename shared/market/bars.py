"""Tick → bar aggregation, the one rule used by the simulated terminal and the data service alike.

A bar is built from the bid, as MT5 builds chart bars for FX: open/close are the first/last bid in the
bar, high/low the extremes, `tick_volume` the number of ticks, `spread` the smallest spread seen in the
bar (in points), `real_volume` the sum of traded volume (0 for FX quotes).
"""

from __future__ import annotations

import numpy as np

from shared.market.records import RATES_DTYPE
from shared.market.timeframes import Timeframe


def ticks_to_bars(ticks: np.ndarray, timeframe: Timeframe, point: float) -> np.ndarray:
    """Aggregate ticks (TICKS_DTYPE, sorted by time_msc) into bars (RATES_DTYPE), one per non-empty period."""
    n = len(ticks)
    if n == 0:
        return np.empty(0, dtype=RATES_DTYPE)
    opens = timeframe.floor_array(ticks["time_msc"] // 1000)
    starts = np.flatnonzero(np.r_[True, opens[1:] != opens[:-1]])
    ends = np.r_[starts[1:], n]
    bid = ticks["bid"]
    bars = np.empty(len(starts), dtype=RATES_DTYPE)
    bars["time"] = opens[starts]
    bars["open"] = bid[starts]
    bars["high"] = np.maximum.reduceat(bid, starts)
    bars["low"] = np.minimum.reduceat(bid, starts)
    bars["close"] = bid[ends - 1]
    bars["tick_volume"] = ends - starts
    # rint(x / point) is monotonic in x, so the smallest spread in points is that of the smallest raw
    # spread: one division per bar instead of one per tick.
    bars["spread"] = np.rint(np.minimum.reduceat(ticks["ask"] - bid, starts) / point)
    bars["real_volume"] = np.add.reduceat(ticks["volume"], starts)
    return bars


def aggregate_bars(bars: np.ndarray, timeframe: Timeframe) -> np.ndarray:
    """Time-sorted finer bars (RATES_DTYPE) into `timeframe` bars; equal to ticks_to_bars on the same ticks."""
    n = len(bars)
    if n == 0:
        return np.empty(0, dtype=RATES_DTYPE)
    opens = timeframe.floor_array(bars["time"])
    starts = np.flatnonzero(np.r_[True, opens[1:] != opens[:-1]])
    ends = np.r_[starts[1:], n]
    out = np.empty(len(starts), dtype=RATES_DTYPE)
    out["time"] = opens[starts]
    out["open"] = bars["open"][starts]
    out["high"] = np.maximum.reduceat(bars["high"], starts)
    out["low"] = np.minimum.reduceat(bars["low"], starts)
    out["close"] = bars["close"][ends - 1]
    out["tick_volume"] = np.add.reduceat(bars["tick_volume"], starts)
    out["spread"] = np.minimum.reduceat(bars["spread"], starts)
    out["real_volume"] = np.add.reduceat(bars["real_volume"], starts)
    return out


def merge_bar(existing: np.void, update: np.void) -> np.void:
    """Combine a stored partial bar with a later partial bar of the same period (incremental building)."""
    merged = existing.copy()
    merged["high"] = max(existing["high"], update["high"])
    merged["low"] = min(existing["low"], update["low"])
    merged["close"] = update["close"]
    merged["tick_volume"] = existing["tick_volume"] + update["tick_volume"]
    merged["spread"] = min(existing["spread"], update["spread"])
    merged["real_volume"] = existing["real_volume"] + update["real_volume"]
    return merged
