"""Indicators, candlestick patterns and chart analysis over a symbol's bars read from the data service.

Indicators and patterns read extra history before the requested window, then keep only the window.
Patterns need exactly their look-back: a candle's verdict depends on that many bars before it and no more.
Indicators read `warmup_lookbacks` times their look-back: that is enough to give values wherever the data
allows, and also lets recursive ones (EMA, MACD, RSI, ATR, ADX ...), whose value depends on where they
start, converge to what the whole history would give (to ~1e-9 with the default of 20). Cumulative ones
(OBV, AD) keep an offset that depends on the start by nature. The CPU work runs in a worker
thread so the event loop keeps serving. Every answer carries the data service's coverage of the bars read
(count, first, last, and the holes against the trading calendar), so a window spanning a hole says so.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.pattern.core.bars_source import BarQuery, BarReader, bar_columns
from services.pattern.core.candlesticks import Detections, detect_patterns
from services.pattern.core.chart_analysis import ChartOptions, analyze_chart
from services.pattern.core.compute import ColumnFrame, compute, max_lookback
from services.pattern.core.spec import Spec
from shared.market.coverage import Coverage


async def indicators_over(
    source: BarReader,
    specs: list[Spec],
    symbol: str,
    timeframe: str,
    query: BarQuery,
    *,
    warmup_lookbacks: int = 20,
) -> tuple[ColumnFrame, Coverage | None]:
    """The specs' outputs over the requested window of bars, and the coverage of all bars read."""
    history = max_lookback(specs) * warmup_lookbacks
    read, first = await source.fetch_with_history(symbol, timeframe, query, history)
    frame = await asyncio.to_thread(compute, specs, bar_columns(read.bars))
    return frame.slice(first), read.coverage


async def patterns_over(
    source: BarReader, specs: list[Spec], symbol: str, timeframe: str, query: BarQuery
) -> tuple[Detections, Coverage | None]:
    """Where the candlestick specs fire within the requested window of bars, and the coverage of all
    bars read."""
    read, first = await source.fetch_with_history(symbol, timeframe, query, max_lookback(specs))
    detections = await asyncio.to_thread(detect_patterns, specs, bar_columns(read.bars))
    return detections.since(first), read.coverage


async def chart_over(
    source: BarReader, options: ChartOptions, symbol: str, timeframe: str, query: BarQuery
) -> dict[str, Any]:
    """Chart analysis of exactly the requested window (swings and levels are properties of that window),
    with the coverage of its bars."""
    read = await source.fetch_covered(symbol, timeframe, query)
    analysis = await asyncio.to_thread(analyze_chart, bar_columns(read.bars), options)
    return {**analysis, "coverage": None if read.coverage is None else read.coverage.to_dict()}
