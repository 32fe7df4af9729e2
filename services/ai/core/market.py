"""Bars for training and prediction from the data service (`/ohlc`, Arrow form); posted bars are checked by
`shared.market.bar_input`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shared.clients import ServiceClient
from shared.errors import InvalidInputError
from shared.market.bar_input import BAR_COLUMNS
from shared.market.coverage import Coverage
from shared.market.records import RATES_DTYPE
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
    """The data service as a source of bars."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    async def aclose(self) -> None:
        await self._client.aclose()

    async def window(self, window: BarWindow) -> dict[str, np.ndarray]:
        """Bars opening in [from, to]; 422 empty_range when there are none."""
        rates = await self._client.get_array(
            f"/ohlc/{window.symbol}/{window.timeframe}",
            RATES_DTYPE,
            {"from": window.from_s, "to": window.to_s},
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
        rates, metadata = await self._client.get_array_with_metadata(
            f"/ohlc/{symbol}/{timeframe}", RATES_DTYPE, {"count": count}
        )
        return {name: rates[name] for name in BAR_COLUMNS}, Coverage.from_metadata(metadata)
