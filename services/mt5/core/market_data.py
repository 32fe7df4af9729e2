"""Market data for the HTTP API: symbols, quotes, and ticks and bars with MT5's range semantics and limits.

A tick range is read in windows of a few hours, each one call in the terminal's worker, so an order sent
meanwhile waits for one window, never for a whole month of ticks. Limits make "too large" a clear 422
before the work grows: a tick range may span at most `max_tick_range_days` and return at most
`max_ticks` ticks; a bar request at most `max_bars` bars (estimated from the span before reading).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from services.mt5.core.gateway import TerminalGateway
from shared.errors import InvalidInputError
from shared.market import mt5_constants as mt5
from shared.market.records import TICKS_DTYPE, SymbolInfo, Tick
from shared.market.timeframes import Timeframe

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
_MONTH_S_MIN = 28 * 86_400
TICK_FLAGS = {"all": mt5.COPY_TICKS_ALL, "info": mt5.COPY_TICKS_INFO, "trade": mt5.COPY_TICKS_TRADE}


@dataclass(frozen=True)
class SeriesLimits:
    """How much one request may ask for."""

    max_ticks: int = 2_000_000
    max_bars: int = 100_000
    max_tick_range_days: float = 31.0
    tick_window_ms: int = 6 * HOUR_MS


def _invalid(message: str, code: str, field: str, **details: Any) -> InvalidInputError:
    return InvalidInputError(message, code=code, details={"field": field, **details})


class MarketData:
    """Symbols, quotes, ticks and bars of one terminal, read through the gateway's worker."""

    def __init__(self, gateway: TerminalGateway, limits: SeriesLimits) -> None:
        self._gateway = gateway
        self._terminal = gateway.terminal
        self.limits = limits

    async def require_symbol(self, symbol: str) -> None:
        """Raise NotFoundError (code unknown_symbol) unless the terminal knows `symbol`."""
        await self._gateway.run(self._terminal.symbol_spec, symbol)

    async def symbols(self) -> tuple[SymbolInfo, ...]:
        """Every symbol the terminal offers."""
        return await self._gateway.call("symbols", self._terminal.symbols_get)

    async def symbol_info(self, symbol: str) -> SymbolInfo:
        """One symbol's facts and current quote."""
        await self.require_symbol(symbol)
        return await self._gateway.call(f"symbol {symbol}", self._terminal.symbol_info, symbol)

    async def tick(self, symbol: str) -> Tick:
        """The symbol's latest tick."""
        await self.require_symbol(symbol)
        return await self._gateway.call(f"latest tick of {symbol}", self._terminal.symbol_info_tick, symbol)

    async def latest_ms(self, symbol: str) -> int:
        """The time of the symbol's latest tick: "now" as the terminal's market sees it."""
        return int((await self.tick(symbol)).time_msc)

    async def ticks_range(self, symbol: str, from_ms: int, to_ms: int, flags: int) -> np.ndarray:
        """Ticks with from_ms <= time_msc <= to_ms (copy_ticks_range), at most `max_ticks` of them."""
        if from_ms > to_ms:
            raise _invalid(f"from ({from_ms}) is after to ({to_ms})", "invalid_range", "from")
        span_days = (to_ms - from_ms) / DAY_MS
        if span_days > self.limits.max_tick_range_days:
            raise _invalid(
                f"range of {span_days:.1f} days is too large; at most {self.limits.max_tick_range_days:g}",
                "range_too_large",
                "to",
                limit_days=self.limits.max_tick_range_days,
            )
        await self.require_symbol(symbol)
        parts: list[np.ndarray] = []
        count = 0
        window = self.limits.tick_window_ms
        for start in range(from_ms, to_ms + 1, window):
            end = min(start + window - 1, to_ms)
            # Seconds with a fraction carry the milliseconds: every adapter accepts float epoch seconds.
            ticks = await self._gateway.call(
                f"ticks of {symbol}", self._terminal.copy_ticks_range, symbol, start / 1000, end / 1000, flags
            )
            count += len(ticks)
            if count > self.limits.max_ticks:
                raise self._too_many_ticks("to")
            parts.append(ticks)
        return np.concatenate(parts) if parts else np.empty(0, dtype=TICKS_DTYPE)

    async def ticks_from(self, symbol: str, from_ms: int, count: int, flags: int) -> np.ndarray:
        """The first `count` ticks at or after from_ms (copy_ticks_from)."""
        if count > self.limits.max_ticks:
            raise self._too_many_ticks("count")
        await self.require_symbol(symbol)
        return await self._gateway.call(
            f"ticks of {symbol}", self._terminal.copy_ticks_from, symbol, from_ms / 1000, count, flags
        )

    async def rates_range(self, symbol: str, timeframe: Timeframe, from_s: int, to_s: int) -> np.ndarray:
        """Bars with from_s <= open time <= to_s (copy_rates_range)."""
        if from_s > to_s:
            raise _invalid(f"from ({from_s}) is after to ({to_s})", "invalid_range", "from")
        period = timeframe.seconds or _MONTH_S_MIN
        if (to_s - from_s) // period + 1 > self.limits.max_bars:
            raise _invalid(
                f"range holds more than {self.limits.max_bars} {timeframe.name} bars",
                "range_too_large",
                "to",
                limit=self.limits.max_bars,
            )
        await self.require_symbol(symbol)
        return await self._gateway.call(
            f"bars of {symbol}", self._terminal.copy_rates_range, symbol, timeframe.code, from_s, to_s
        )

    async def rates_last(self, symbol: str, timeframe: Timeframe, count: int, to_s: int | None) -> np.ndarray:
        """The last `count` bars opening at or before to_s, or up to the current bar when to_s is None."""
        if count > self.limits.max_bars:
            raise _invalid(
                f"count {count} is more than {self.limits.max_bars} bars",
                "range_too_large",
                "count",
                limit=self.limits.max_bars,
            )
        await self.require_symbol(symbol)
        what = f"bars of {symbol}"
        if to_s is None:
            return await self._gateway.call(
                what, self._terminal.copy_rates_from_pos, symbol, timeframe.code, 0, count
            )
        return await self._gateway.call(
            what, self._terminal.copy_rates_from, symbol, timeframe.code, to_s, count
        )

    def _too_many_ticks(self, field: str) -> InvalidInputError:
        return _invalid(
            f"more than {self.limits.max_ticks} ticks; ask for a shorter range",
            "range_too_large",
            field,
            limit=self.limits.max_ticks,
        )
