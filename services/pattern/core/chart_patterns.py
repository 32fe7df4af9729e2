"""Chart-level analysis beyond single candles: swings, support/resistance, pivot points, double tops/bottoms.

All functions take plain numpy arrays (bar order, oldest first) and return indices into them, so the caller
maps indices to times. Tolerances and depths are fractions of price (0.002 = 0.2 %), which keeps one
setting meaningful across EURUSD at 1.08 and XAUUSD at 2300.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from shared.market.timeframes import Timeframe

PivotMethod = Literal["classic", "fibonacci", "camarilla"]


@dataclass(frozen=True, slots=True)
class Swings:
    """Indices and prices of swing highs (on `high`) and swing lows (on `low`)."""

    high_index: np.ndarray
    high_price: np.ndarray
    low_index: np.ndarray
    low_price: np.ndarray


def swing_points(high: np.ndarray, low: np.ndarray, *, left: int = 2, right: int = 2) -> Swings:
    """Fractal swings: bars whose high beats the `left` bars before and is not beaten by the `right` after.

    Rules: bar i is a swing high when high[i] > every high in [i-left, i) and high[i] >= every high in
    (i, i+right]; a swing low mirrors this on `low`. Strict on the left, non-strict on the right, so a flat
    top of equal highs yields one swing, at its first bar. The last `right` bars cannot be swings yet.
    """
    high_index = _fractal_peaks(np.asarray(high, dtype=np.float64), left, right)
    low_index = _fractal_peaks(-np.asarray(low, dtype=np.float64), left, right)
    return Swings(high_index, np.asarray(high)[high_index], low_index, np.asarray(low)[low_index])


def _fractal_peaks(x: np.ndarray, left: int, right: int) -> np.ndarray:
    if left < 1 or right < 1:
        raise ValueError("left and right must be at least 1")
    n = len(x)
    if n < left + right + 1:
        return np.empty(0, dtype=np.int64)
    candidates = np.arange(left, n - right)
    before = sliding_window_view(x, left).max(axis=1)[candidates - left]
    after = sliding_window_view(x, right).max(axis=1)[candidates + 1]
    centre = x[candidates]
    return candidates[(centre > before) & (centre >= after)].astype(np.int64)


@dataclass(frozen=True, slots=True)
class Level:
    """A support or resistance level built from swing points that touched it."""

    price: float
    kind: Literal["support", "resistance"]
    touches: int
    first_index: int
    last_index: int
    strength: float


def support_resistance(
    swings: Swings, last_close: float, *, tolerance: float = 0.002, min_touches: int = 2
) -> list[Level]:
    """Levels where swing highs and lows cluster, strongest first.

    Rules: all swing prices (highs and lows alike, since broken resistance becomes support) are sorted and
    grouped greedily: a group starts at its lowest price p and takes every next price within
    p + tolerance * |p|. A group with at least `min_touches` swings is a level at their mean price; each
    swing is one touch. The level is support if it lies at or below `last_close`, else resistance.
    Strength = touches / the most touches of any level (1.0 for the strongest).
    """
    prices = np.concatenate([swings.high_price, swings.low_price]).astype(np.float64)
    indices = np.concatenate([swings.high_index, swings.low_index])
    order = np.argsort(prices, kind="stable")
    prices, indices = prices[order], indices[order]
    groups: list[tuple[int, int]] = []
    start = 0
    for i in range(1, len(prices) + 1):
        if i == len(prices) or prices[i] > prices[start] + tolerance * abs(prices[start]):
            groups.append((start, i))
            start = i
    clusters = [(a, b) for a, b in groups if b - a >= min_touches]
    if not clusters:
        return []
    most = max(b - a for a, b in clusters)
    levels = [
        Level(
            price=float(prices[a:b].mean()),
            kind="support" if prices[a:b].mean() <= last_close else "resistance",
            touches=b - a,
            first_index=int(indices[a:b].min()),
            last_index=int(indices[a:b].max()),
            strength=(b - a) / most,
        )
        for a, b in clusters
    ]
    return sorted(levels, key=lambda level: (-level.touches, level.price))


def pivot_points(high: float, low: float, close: float, method: PivotMethod = "classic") -> dict[str, float]:
    """Pivot levels for a period from the previous period's high, low and close.

    classic:   P = (H+L+C)/3; R1 = 2P-L, S1 = 2P-H; R2 = P+(H-L), S2 = P-(H-L); R3 = H+2(P-L), S3 = L-2(H-P).
    fibonacci: P as classic; R/S n = P ± f·(H-L) with f = 0.382, 0.618, 1.000.
    camarilla: P as classic; R/S n = C ± (H-L)·1.1/k with k = 12, 6, 4, 2 for n = 1..4.
    """
    pivot = (high + low + close) / 3
    span = high - low
    if method == "classic":
        return {
            "P": pivot,
            "R1": 2 * pivot - low,
            "S1": 2 * pivot - high,
            "R2": pivot + span,
            "S2": pivot - span,
            "R3": high + 2 * (pivot - low),
            "S3": low - 2 * (high - pivot),
        }
    if method == "fibonacci":
        levels = {"P": pivot}
        for n, ratio in enumerate((0.382, 0.618, 1.0), start=1):
            levels[f"R{n}"] = pivot + ratio * span
            levels[f"S{n}"] = pivot - ratio * span
        return levels
    if method == "camarilla":
        levels = {"P": pivot}
        for n, divisor in enumerate((12, 6, 4, 2), start=1):
            levels[f"R{n}"] = close + span * 1.1 / divisor
            levels[f"S{n}"] = close - span * 1.1 / divisor
        return levels
    raise ValueError(f"unknown pivot method {method!r}")


def period_pivots(
    time: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    period: Timeframe,
    method: PivotMethod = "classic",
) -> list[dict[str, float]]:
    """Pivots of every period in the bars after the first, each from the period before it (e.g. D1 on M15).

    Each item is `{"time": period open, "based_on": previous period open, "P": ..., "R1": ...}`; a period
    that the bars skip (a weekend) is simply not there, so Monday's pivots come from Friday.
    """
    opens = period.floor_array(np.asarray(time, dtype=np.int64))
    starts = np.flatnonzero(np.r_[True, opens[1:] != opens[:-1]])
    period_high = np.maximum.reduceat(np.asarray(high, dtype=np.float64), starts)
    period_low = np.minimum.reduceat(np.asarray(low, dtype=np.float64), starts)
    period_close = np.asarray(close, dtype=np.float64)[np.r_[starts[1:] - 1, len(opens) - 1]]
    return [
        {
            "time": int(opens[starts[k]]),
            "based_on": int(opens[starts[k - 1]]),
            **pivot_points(
                float(period_high[k - 1]), float(period_low[k - 1]), float(period_close[k - 1]), method
            ),
        }
        for k in range(1, len(starts))
    ]


@dataclass(frozen=True, slots=True)
class DoublePattern:
    """A confirmed double top or bottom: two peaks, the neckline between them and the confirming close."""

    kind: Literal["double_top", "double_bottom"]
    first_index: int
    second_index: int
    neckline_index: int
    neckline: float
    peak: float
    confirm_index: int


def double_tops(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    swings: Swings,
    *,
    tolerance: float = 0.005,
    min_depth: float = 0.01,
    min_bars: int = 3,
) -> list[DoublePattern]:
    """Double tops among consecutive swing highs A then B.

    Rules: (1) B is at least `min_bars` after A; (2) their highs differ by at most tolerance·top, where top
    is the higher of the two; (3) no high between them exceeds top; (4) the neckline, the lowest low
    between them, lies at least min_depth·top below the lower peak; (5) confirmation: a close below the
    neckline within (B - A) bars after B, before any high exceeds top·(1 + tolerance).
    """
    return _double_patterns(
        np.asarray(high, np.float64),
        np.asarray(low, np.float64),
        np.asarray(close, np.float64),
        swings.high_index,
        tolerance,
        min_depth,
        min_bars,
        sign=1.0,
    )


def double_bottoms(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    swings: Swings,
    *,
    tolerance: float = 0.005,
    min_depth: float = 0.01,
    min_bars: int = 3,
) -> list[DoublePattern]:
    """Double bottoms among consecutive swing lows: the mirror image of `double_tops` (neckline = highest
    high between the lows, confirmed by a close above it)."""
    return _double_patterns(
        -np.asarray(low, np.float64),
        -np.asarray(high, np.float64),
        -np.asarray(close, np.float64),
        swings.low_index,
        tolerance,
        min_depth,
        min_bars,
        sign=-1.0,
    )


def _double_patterns(
    peak_series: np.ndarray,
    trough_series: np.ndarray,
    close: np.ndarray,
    peaks: np.ndarray,
    tolerance: float,
    min_depth: float,
    min_bars: int,
    *,
    sign: float,
) -> list[DoublePattern]:
    """Double tops on (peak_series, trough_series, close); bottoms are found as tops of the negated series."""
    found = []
    for a, b in zip(peaks[:-1].tolist(), peaks[1:].tolist(), strict=True):
        first, second = peak_series[a], peak_series[b]
        top = max(first, second)
        scale = abs(top)
        if b - a < min_bars or abs(first - second) > tolerance * scale:
            continue
        if peak_series[a + 1 : b].max() > top:
            continue
        neckline_index = a + 1 + int(np.argmin(trough_series[a + 1 : b]))
        neckline = trough_series[neckline_index]
        if min(first, second) - neckline < min_depth * scale:
            continue
        stop = min(len(close), b + 1 + (b - a))
        broke = np.flatnonzero(close[b + 1 : stop] < neckline)
        failed = np.flatnonzero(peak_series[b + 1 : stop] > top + tolerance * scale)
        if len(broke) == 0 or (len(failed) and failed[0] <= broke[0]):
            continue
        found.append(
            DoublePattern(
                kind="double_top" if sign > 0 else "double_bottom",
                first_index=a,
                second_index=b,
                neckline_index=neckline_index,
                neckline=float(sign * neckline),
                peak=float(sign * top),
                confirm_index=b + 1 + int(broke[0]),
            )
        )
    return found
