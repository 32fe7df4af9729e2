"""Bars for training and prediction from the data service (`/ohlc`, Arrow form); posted bars are checked by
`shared.market.bar_input`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.contracts.data import DataClient
from shared.errors import InvalidInputError
from shared.market.bar_input import BAR_COLUMNS
from shared.market.coverage import Coverage
from shared.market.symbols import DEFAULT_SYMBOLS

_POINTS = {spec.name: spec.point for spec in DEFAULT_SYMBOLS}


@dataclass(frozen=True, slots=True)
class BarWindow:
    """Bars of one symbol and timeframe opening in [from_s, to_s]."""

    symbol: str
    timeframe: str
    from_s: int
    to_s: int


def symbol_point(symbol: str | None) -> float | None:
    """The point of a symbol with a built-in specification (for spreads given in points)."""
    return _POINTS.get(symbol) if symbol else None


class DataBars:
    """The data service as a source of bars, as training and prediction read it."""

    def __init__(self, client: DataClient) -> None:
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()

    async def window(self, window: BarWindow) -> dict[str, np.ndarray]:
        """Bars opening in [from, to]; 422 empty_range when there are none."""
        rates = await self._client.bars(
            window.symbol, window.timeframe, from_s=window.from_s, to_s=window.to_s
        )
        if len(rates) == 0:
            raise InvalidInputError(
                f"no {window.symbol} {window.timeframe} bars in [{window.from_s}, {window.to_s}]",
                code="empty_range",
                details={"symbol": window.symbol, "timeframe": window.timeframe},
            )
        return {name: rates[name] for name in BAR_COLUMNS}

    async def latest(
        self, symbol: str, timeframe: str, count: int
    ) -> tuple[dict[str, np.ndarray], Coverage | None]:
        """The newest `count` bars, and the data service's coverage of them (None if it does not say)."""
        rates, coverage = await self._client.ohlc(symbol, timeframe, count=count)
        return {name: rates[name] for name in BAR_COLUMNS}, coverage
