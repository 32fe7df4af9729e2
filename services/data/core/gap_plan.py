"""Planning gap fill: split missing ranges into fetch requests of bounded size (pure functions).

Bars are counted in expected opens, so a chunk never wastes its budget on closed hours; ticks are cut
by duration inside trading hours, since their count is unknown before fetching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.data.core.completeness import MissingRange
from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.timeframes import Timeframe


@dataclass(frozen=True, slots=True)
class FetchChunk:
    """One request to the terminal: [from_s, to_s) holding `expected_bars` bars (0 for ticks)."""

    from_s: int
    to_s: int
    expected_bars: int = 0


def plan_bar_fetches(
    missing: Sequence[MissingRange],
    timeframe: Timeframe,
    max_bars: int,
    calendar: WeeklyCalendar = FX_CALENDAR,
) -> list[FetchChunk]:
    """Chunks of at most `max_bars` expected bars covering every fillable missing range."""
    if max_bars <= 0:
        raise ValueError("max_bars must be positive")
    chunks: list[FetchChunk] = []
    for gap in missing:
        if gap.unfillable:
            continue
        opens = calendar.expected_bar_opens(timeframe, gap.from_s, gap.to_s)
        for start in range(0, len(opens), max_bars):
            part = opens[start : start + max_bars]
            end = int(opens[start + max_bars]) if start + max_bars < len(opens) else gap.to_s
            chunks.append(FetchChunk(int(part[0]), end, len(part)))
    return chunks


def plan_tick_fetches(
    missing: Sequence[MissingRange],
    max_span_s: int,
    calendar: WeeklyCalendar = FX_CALENDAR,
) -> list[FetchChunk]:
    """Chunks of at most `max_span_s` seconds of trading time covering every fillable missing range."""
    if max_span_s <= 0:
        raise ValueError("max_span_s must be positive")
    chunks: list[FetchChunk] = []
    for gap in missing:
        if gap.unfillable:
            continue
        for a, b in calendar.open_intervals(gap.from_s, gap.to_s):
            chunks.extend(FetchChunk(t, min(t + max_span_s, b)) for t in range(a, b, max_span_s))
    return chunks
