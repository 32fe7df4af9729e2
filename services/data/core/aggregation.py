"""Bars of a higher timeframe from bars of a lower one, by the same rule `ticks_to_bars` applies to ticks.

open = first open, close = last close, high/low the extremes, tick_volume and real_volume summed, spread
the minimum; so aggregating M1 bars built from ticks equals building the higher bars from those ticks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from shared.market.bars import aggregate_bars, ticks_to_bars
from shared.market.timeframes import TIMEFRAMES, Timeframe

_DAY = 86_400


def divides(lower: Timeframe, higher: Timeframe) -> bool:
    """True when every `higher` bar is an exact union of `lower` bars (so aggregation is exact)."""
    if lower.seconds == 0 or lower == higher:
        return False
    if higher.seconds == 0 or higher.name == "W1":  # months and Sunday-aligned weeks start at midnight
        return _DAY % lower.seconds == 0
    return higher.seconds % lower.seconds == 0 and higher.seconds > lower.seconds


def best_source(target: Timeframe, stored: list[str]) -> Timeframe | None:
    """The largest stored timeframe that `target` can be built from exactly, or None."""
    candidates = [TIMEFRAMES[name] for name in stored if divides(TIMEFRAMES[name], target)]
    return max(candidates, key=lambda tf: tf.seconds, default=None)


def ceil_open(timeframe: Timeframe, t: int) -> int:
    """The first bar open of `timeframe` at or after epoch second `t`."""
    start = timeframe.floor(t)
    return start if start == t else timeframe.next_open(start)


def bars_for_timeframes(
    ticks: np.ndarray, timeframes: Sequence[Timeframe], point: float
) -> dict[str, np.ndarray]:
    """`ticks_to_bars` for every timeframe: the smallest from the ticks, the rest aggregated from it.

    Aggregating the far smaller bar array gives the same bars (see the module rule) several times faster
    than passing over the ticks once per timeframe.
    """
    base = min(timeframes, key=lambda tf: tf.seconds or 31 * _DAY)
    base_bars = ticks_to_bars(ticks, base, point)
    return {
        tf.name: base_bars
        if tf == base
        else aggregate_bars(base_bars, tf)
        if divides(base, tf)
        else ticks_to_bars(ticks, tf, point)
        for tf in timeframes
    }
