"""Bars from the data service, with the extra history an indicator's look-back needs.

The data service's `/ohlc` contract (spoken by `shared.contracts.data`): bars opening in [from, to], both
ends inclusive, or the last `count` bars up to `to` (or the latest). Its being down is a 503
`data_unavailable`; its 4xx (unknown symbol, bad timeframe) pass through with its code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from shared.contracts.data import CoveredBars, DataClient
from shared.market.coverage import merge as merge_coverage
from shared.market.records import RATES_DTYPE

Columns = dict[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class BarQuery:
    """Which bars a client asked for: from <= time <= to, or the last `count` bars up to `to` (or now)."""

    start: int | None = None
    end: int | None = None
    count: int | None = None


class BarReader:
    """The bars of a query, and of a query with look-back history, read from the data service."""

    def __init__(self, client: DataClient, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._clock = clock

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, symbol: str, timeframe: str, query: BarQuery) -> np.ndarray:
        """Bars as a RATES_DTYPE structured array, oldest first."""
        return (await self.fetch_covered(symbol, timeframe, query)).bars

    async def fetch_covered(self, symbol: str, timeframe: str, query: BarQuery) -> CoveredBars:
        """Bars as a RATES_DTYPE structured array, oldest first, and the data service's coverage of them."""
        if query.start is not None:
            # A range needs both ends; an open end means "up to now", the bar forming now included.
            end = query.end if query.end is not None else int(self._clock())
            return await self._client.ohlc(symbol, timeframe, from_s=query.start, to_s=end)
        return await self._client.ohlc(symbol, timeframe, to_s=query.end, count=query.count)

    async def fetch_with_history(
        self, symbol: str, timeframe: str, query: BarQuery, history: int
    ) -> tuple[CoveredBars, int]:
        """The requested bars preceded by up to `history` earlier ones (with the coverage of all of them),
        and the index where the request starts.

        A range is read as two calls (the `history` bars before `from`, and the range itself) because the
        bar count between two times depends on the trading calendar; a count is simply read longer.
        """
        if query.start is None:
            count = None if query.count is None else query.count + history
            read = await self.fetch_covered(symbol, timeframe, BarQuery(end=query.end, count=count))
            first = 0 if query.count is None else max(0, len(read.bars) - query.count)
            return read, first
        if history == 0:
            return await self.fetch_covered(symbol, timeframe, query), 0
        # The look-back ends just before `from` (`to` is inclusive), so the two reads' windows only touch
        # and their holes join without counting a bar twice.
        before, window = await asyncio.gather(
            self.fetch_covered(symbol, timeframe, BarQuery(end=query.start - 1, count=history)),
            self.fetch_covered(symbol, timeframe, query),
        )
        coverage = None
        if before.coverage is not None and window.coverage is not None:
            coverage = merge_coverage([before.coverage, window.coverage])
        return CoveredBars(np.concatenate([before.bars, window.bars]), coverage), len(before.bars)


def bar_columns(bars: np.ndarray) -> Columns:
    """RATES_DTYPE bars as the columns the core reads; `volume` is the bar's tick volume, as in MT5 charts."""
    columns = {name: np.ascontiguousarray(bars[name]) for name in RATES_DTYPE.names or ()}
    columns["volume"] = columns["tick_volume"].astype(np.float64)
    return columns
