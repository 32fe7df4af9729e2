"""The mt5 service as the collector's source of ticks (the endpoints are spoken by shared.contracts.mt5;
gap-fill workers use its blocking `Mt5HistoryClient`)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from shared.contracts.mt5 import Mt5Client
from shared.errors import PlatformError


class TickSource(Protocol):
    """What the collector needs from the terminal."""

    async def symbol_point(self, symbol: str) -> float: ...

    async def latest_tick_ms(self, symbol: str) -> int | None: ...

    async def ticks_from(self, symbol: str, from_ms: int, count: int) -> np.ndarray: ...


class Mt5TickSource:
    """TickSource over the mt5 service's HTTP API."""

    def __init__(self, client: Mt5Client) -> None:
        self._client = client
        self._points: dict[str, float] = {}

    async def symbol_point(self, symbol: str) -> float:
        """The symbol's point (spread unit of the bars), from the terminal's symbol list, cached."""
        if symbol not in self._points:
            infos = await self._client.symbols()
            self._points.update({info["name"]: float(info["point"]) for info in infos})
        if symbol not in self._points:
            raise PlatformError(
                f"the terminal does not know {symbol}",
                code="unknown_symbol",
                details={"symbol": symbol},
                status_code=404,
            )
        return self._points[symbol]

    async def latest_tick_ms(self, symbol: str) -> int | None:
        """Time of the terminal's newest tick of a symbol (None when it has none)."""
        return await self._client.latest_tick_ms(symbol)

    async def ticks_from(self, symbol: str, from_ms: int, count: int) -> np.ndarray:
        """Up to `count` ticks with time_msc >= from_ms, oldest first, never beyond the terminal's now."""
        return await self._client.ticks_from(symbol, from_ms, count)
