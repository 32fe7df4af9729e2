"""One chart analysis of a window of bars: swings, support/resistance, period pivots, double tops/bottoms.

The rules of each part are in `chart_patterns`; this module runs them together with one set of options and
reports bar times instead of indices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.pattern.core.chart_patterns import (
    DoublePattern,
    PivotMethod,
    double_bottoms,
    double_tops,
    period_pivots,
    support_resistance,
    swing_points,
)
from shared.market.timeframes import get_timeframe

DoubleFinder = Callable[..., list[DoublePattern]]


@dataclass(frozen=True, slots=True)
class ChartOptions:
    """Tuning of the analysis; tolerances and depths are fractions of price."""

    swing_left: int = 2
    swing_right: int = 2
    level_tolerance: float = 0.002
    min_touches: int = 2
    pivot_method: PivotMethod = "classic"
    pivot_period: str = "D1"
    double_tolerance: float = 0.005
    double_min_depth: float = 0.01
    double_min_bars: int = 3


def analyze_chart(bars: Mapping[str, np.ndarray], options: ChartOptions) -> dict[str, Any]:
    """Swings, levels, pivots and double tops/bottoms of `bars` (time, high, low, close), JSON-ready."""
    time = np.asarray(bars["time"], dtype=np.int64)
    high, low, close = (np.asarray(bars[k], dtype=np.float64) for k in ("high", "low", "close"))
    swings = swing_points(high, low, left=options.swing_left, right=options.swing_right)
    levels = (
        support_resistance(
            swings, float(close[-1]), tolerance=options.level_tolerance, min_touches=options.min_touches
        )
        if len(close)
        else []
    )
    pivots = (
        period_pivots(time, high, low, close, get_timeframe(options.pivot_period), options.pivot_method)
        if len(time)
        else []
    )

    def finder(find: DoubleFinder) -> list[DoublePattern]:
        return find(
            high,
            low,
            close,
            swings,
            tolerance=options.double_tolerance,
            min_depth=options.double_min_depth,
            min_bars=options.double_min_bars,
        )

    return {
        "swings": {
            "highs": {"time": time[swings.high_index], "price": swings.high_price},
            "lows": {"time": time[swings.low_index], "price": swings.low_price},
        },
        "levels": [
            {
                "price": level.price,
                "kind": level.kind,
                "touches": level.touches,
                "strength": level.strength,
                "first_time": int(time[level.first_index]),
                "last_time": int(time[level.last_index]),
            }
            for level in levels
        ],
        "pivots": {"method": options.pivot_method, "period": options.pivot_period, "periods": pivots},
        "double_tops": [_double(p, time) for p in finder(double_tops)],
        "double_bottoms": [_double(p, time) for p in finder(double_bottoms)],
        "notes": too_few_bars(len(time), options),
    }


def minimum_bars(options: ChartOptions) -> dict[str, int]:
    """The fewest bars each detector can find anything in: a swing needs its `left` and `right` bars,
    a level at least one swing, a double two swings `double_min_bars` apart."""
    swing = options.swing_left + options.swing_right + 1
    double = options.swing_left + options.double_min_bars + options.swing_right + 1
    return {"swings": swing, "levels": swing, "double_tops": double, "double_bottoms": double}


def too_few_bars(bars: int, options: ChartOptions) -> list[dict[str, Any]]:
    """Why a detector's answer is empty by construction: one note per detector given too few bars."""
    return [
        {
            "code": "too_few_bars",
            "detector": detector,
            "bars": bars,
            "minimum": minimum,
            "message": f"{detector}: {bars} bars, the detector needs at least {minimum}",
        }
        for detector, minimum in minimum_bars(options).items()
        if bars < minimum
    ]


def _double(pattern: DoublePattern, time: np.ndarray) -> dict[str, Any]:
    return {
        "first_time": int(time[pattern.first_index]),
        "second_time": int(time[pattern.second_index]),
        "neckline_time": int(time[pattern.neckline_index]),
        "neckline": pattern.neckline,
        "peak": pattern.peak,
        "confirm_time": int(time[pattern.confirm_index]),
    }
