"""Indicators, candlestick patterns and chart analysis over a symbol's bars read from the data service.

Indicators and patterns read extra history before the requested window, then keep only the window.
Patterns need exactly their look-back: a candle's verdict depends on that many bars before it and no more.
Indicators read `warmup_lookbacks` times their look-back: that is enough to give values wherever the data
allows, and also lets recursive ones (EMA, MACD, RSI, ATR, ADX ...), whose value depends on where they
start, converge to what the whole history would give (to ~1e-9 with the default of 20). Cumulative ones
(OBV, AD) keep an offset that depends on the start by nature. The CPU work runs in a worker
thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.pattern.core.bars_source import BarQuery, DataServiceBars, bar_columns
from services.pattern.core.candlesticks import Detections, detect_patterns
from services.pattern.core.chart_analysis import ChartOptions, analyze_chart
from services.pattern.core.compute import ColumnFrame, compute, max_lookback
from services.pattern.core.spec import Spec


async def indicators_over(
    source: DataServiceBars,
    specs: list[Spec],
    symbol: str,
    timeframe: str,
    query: BarQuery,
    *,
    warmup_lookbacks: int = 20,
) -> ColumnFrame:
    """The specs' outputs over the requested window of bars."""
    history = max_lookback(specs) * warmup_lookbacks
    bars, first = await source.fetch_with_history(symbol, timeframe, query, history)
    frame = await asyncio.to_thread(compute, specs, bar_columns(bars))
    return frame.slice(first)


async def patterns_over(
    source: DataServiceBars, specs: list[Spec], symbol: str, timeframe: str, query: BarQuery
) -> Detections:
    """Where the candlestick specs fire within the requested window of bars."""
    bars, first = await source.fetch_with_history(symbol, timeframe, query, max_lookback(specs))
    detections = await asyncio.to_thread(detect_patterns, specs, bar_columns(bars))
    return detections.since(first)


async def chart_over(
    source: DataServiceBars, options: ChartOptions, symbol: str, timeframe: str, query: BarQuery
) -> dict[str, Any]:
    """Chart analysis of exactly the requested window (swings and levels are properties of that window)."""
    bars = await source.fetch(symbol, timeframe, query)
    return await asyncio.to_thread(analyze_chart, bar_columns(bars), options)
