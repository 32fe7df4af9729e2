"""Charts of the HTML report as inline SVG: a line (optionally filled) over time, with trade markers.

A long series is reduced to the minimum and maximum of each of `max_points / 2` time buckets before it is
drawn, so a million-bar run makes a chart of a few thousand points that still shows every spike.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

import numpy as np

WIDTH, HEIGHT = 960, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 12, 24, 28
_GRID_LINES = 4


@dataclass(frozen=True, slots=True)
class TradeMarks:
    """Entries and exits to mark on a price chart (times epoch seconds; `long` per trade)."""

    entry_time: np.ndarray
    entry_price: np.ndarray
    exit_time: np.ndarray
    exit_price: np.ndarray
    long: np.ndarray


def min_max_downsample(
    time: np.ndarray, values: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray]:
    """At most about `max_points` points: each bucket's minimum and maximum at its first time (in time order
    of the two), so peaks and troughs survive; a short series is returned as it is."""
    n = len(values)
    buckets = max(max_points // 2, 1)
    if n <= max_points:
        return time, values
    starts = np.arange(buckets) * n // buckets
    lows = np.fmin.reduceat(values, starts)
    highs = np.fmax.reduceat(values, starts)
    t = np.repeat(time[starts], 2)
    v = np.empty(2 * buckets)
    v[0::2], v[1::2] = lows, highs
    return t, v


def _ticks(lo: float, hi: float) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * k / _GRID_LINES for k in range(_GRID_LINES + 1)]


def _label(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def _day(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


def line_chart(
    time: np.ndarray,
    values: np.ndarray,
    *,
    title: str,
    max_points: int,
    digits: int = 2,
    fill: bool = False,
    marks: TradeMarks | None = None,
    css_class: str = "line",
) -> str:
    """An SVG chart of `values` over `time` (epoch seconds), with a title, value and date gridlines, and
    trade markers when given."""
    time = np.asarray(time, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    head = (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">'
        f'<text class="title" x="{_LEFT}" y="16">{escape(title)}</text>'
    )
    finite = np.isfinite(values)
    if not finite.any():
        return head + f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle">no data</text></svg>'
    t, v = min_max_downsample(time[finite], values[finite], max_points)
    lo, hi = float(v.min()), float(v.max())
    if marks is not None and len(marks.entry_time):
        lo = min(lo, float(np.nanmin(marks.entry_price)), float(np.nanmin(marks.exit_price)))
        hi = max(hi, float(np.nanmax(marks.entry_price)), float(np.nanmax(marks.exit_price)))
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    t0, t1 = float(t[0]), float(t[-1]) if t[-1] > t[0] else float(t[0]) + 1
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(at: np.ndarray) -> np.ndarray:
        return _LEFT + (at - t0) / (t1 - t0) * plot_w

    def y(at: np.ndarray) -> np.ndarray:
        return _TOP + (hi - at) / (hi - lo) * plot_h

    parts = [head]
    for tick in _ticks(lo, hi):
        ty = float(y(np.array(tick)))
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>'
            f'<text class="axis" x="{_LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{_label(tick, digits)}</text>'
        )
    for k in range(_GRID_LINES + 1):
        at = t0 + (t1 - t0) * k / _GRID_LINES
        anchor = "start" if k == 0 else "end" if k == _GRID_LINES else "middle"
        parts.append(
            f'<text class="axis" x="{float(x(np.array(at))):.1f}" y="{HEIGHT - 8}" '
            f'text-anchor="{anchor}">{_day(at)}</text>'
        )
    xs, ys = x(t), y(v)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs.tolist(), ys.tolist(), strict=True))
    if fill:
        base = float(y(np.array(min(max(0.0, lo), hi))))
        parts.append(
            f'<polygon class="{css_class} area" points="{xs[0]:.1f},{base:.1f} {points} {xs[-1]:.1f},{base:.1f}"/>'
        )
    parts.append(f'<polyline class="{css_class}" fill="none" points="{points}"/>')
    if marks is not None:
        parts.append(_trade_marks(marks, x, y))
    parts.append("</svg>")
    return "".join(parts)


Scale = Callable[[np.ndarray], np.ndarray]


def _trade_marks(marks: TradeMarks, x: Scale, y: Scale) -> str:
    """A dashed line from each entry to its exit, a triangle at the entry (up for long), a square at the exit."""
    ex, ey = x(marks.entry_time.astype(np.float64)), y(marks.entry_price)
    qx, qy = x(marks.exit_time.astype(np.float64)), y(marks.exit_price)
    out = []
    for a, b, c, d, long in zip(
        ex.tolist(), ey.tolist(), qx.tolist(), qy.tolist(), marks.long.tolist(), strict=True
    ):
        if not all(math.isfinite(z) for z in (a, b, c, d)):
            continue
        side = "long" if long else "short"
        tip = -7 if long else 7
        out.append(
            f'<line class="trade {side}" x1="{a:.1f}" y1="{b:.1f}" x2="{c:.1f}" y2="{d:.1f}"/>'
            f'<polygon class="entry {side}" points="{a - 5:.1f},{b - tip / 2:.1f} {a + 5:.1f},{b - tip / 2:.1f} '
            f'{a:.1f},{b + tip / 2:.1f}"/>'
            f'<rect class="exit {side}" x="{c - 3:.1f}" y="{d - 3:.1f}" width="6" height="6"/>'
        )
    return "".join(out)
