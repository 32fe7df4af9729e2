"""Live candlestick detection: each closed bar of a followed (symbol, timeframe) is checked for patterns.

A rolling window per pair holds just the bars TA-Lib needs to decide the newest one (the largest look-back
of the configured patterns, plus the bar itself): TA-Lib's output at a bar depends only on that many bars
before it, so the window gives the same answer as the whole history. The window is seeded from the data
service on a pair's first event, and dropped whenever the event stream reconnects (bars may have been
missed), to be seeded again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import numpy as np

from services.pattern.core.bars_source import BarQuery, BarReader, bar_columns
from services.pattern.core.candlesticks import detect_patterns
from services.pattern.core.compute import max_lookback
from services.pattern.core.spec import Spec
from shared.errors import PlatformError
from shared.event_catalog import PATTERN_DETECTED
from shared.event_payloads import PatternDetected, Publish
from shared.market.candle_events import read_candle

log = logging.getLogger(__name__)


class LiveDetector:
    """Consumes `candle.closed` events and publishes `pattern.detected` for patterns on the new bar."""

    def __init__(
        self,
        specs: list[Spec],
        source: BarReader,
        publish: Publish,
        *,
        symbols: Iterable[str],
        timeframes: Iterable[str],
    ) -> None:
        self._specs = specs
        self._source = source
        self._publish = publish
        self._pairs = {(s.upper(), tf.upper()) for s in symbols for tf in timeframes}
        self.window_size = max_lookback(specs) + 1
        self._windows: dict[tuple[str, str], np.ndarray] = {}

    async def reset(self) -> None:
        """Forget every window (the stream reconnected, so bars may be missing); each is seeded again."""
        self._windows.clear()

    async def on_event(self, event: dict[str, Any]) -> None:
        """Handle one event of the data service's stream; other types and pairs are ignored."""
        if event.get("type") != "candle.closed":
            return
        data = event.get("data") or {}
        candle = read_candle(data)
        if candle is None:
            log.warning("ignoring malformed candle.closed event: %s", data)
            return
        key = (candle.symbol, candle.timeframe)
        if key not in self._pairs:
            return
        window = await self._advance(key, candle.bar)
        if window is None:
            return
        # A few dozen bars through the patterns takes well under a millisecond: no need to leave the loop.
        detections = detect_patterns(self._specs, bar_columns(window)).since(len(window) - 1)
        symbol, timeframe = key
        for found in detections.to_records():
            self._publish(
                PATTERN_DETECTED,
                PatternDetected(
                    symbol=symbol,
                    timeframe=timeframe,
                    time=found["time"],
                    pattern=found["pattern"],
                    direction=found["direction"],
                    strength=found["strength"],
                    # A pattern on a backfilled candle is history: recorded and shown, never acted on.
                    backfill=candle.backfill,
                ),
            )

    async def _advance(self, key: tuple[str, str], bar: np.ndarray) -> np.ndarray | None:
        """The pair's window ending with `bar`, or None when the bar is not new (a repeat or out of order)."""
        time = int(bar["time"][0])
        window = self._windows.get(key)
        if window is None:
            try:
                window = await self._source.fetch(*key, BarQuery(end=time, count=self.window_size))
            except PlatformError as exc:
                log.warning("cannot seed %s %s from the data service: %s", *key, exc)
                return None
            window = window[window["time"] < time]
        elif len(window) and time <= int(window["time"][-1]):
            return None
        window = np.concatenate([window, bar])[-self.window_size :]
        self._windows[key] = window
        return window
