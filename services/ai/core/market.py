"""Bars for training and prediction: from the data service (`/ohlc`) or posted inline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from shared.contracts.data import DataClient
from shared.errors import InvalidInputError
from shared.market.coverage import Coverage
from shared.market.symbols import DEFAULT_SYMBOLS

BAR_FIELDS = ("time", "open", "high", "low", "close", "tick_volume", "spread")
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


def inline_bars(columns: Mapping[str, np.ndarray | Sequence[float] | None]) -> dict[str, np.ndarray]:
    """Posted bars as numpy columns (arrays of the right type are not copied); times must increase strictly
    and prices be positive."""
    bars = {
        name: np.asarray(values, dtype=np.int64 if name == "time" else np.float64)
        for name, values in columns.items()
        if values is not None
    }
    steps = np.diff(bars["time"])
    if steps.size and steps.min() <= 0:
        index = int(np.argmax(steps <= 0)) + 1
        raise InvalidInputError(
            f"bars.time must increase strictly (it does not at index {index})",
            code="invalid_bars",
            details={"field": "bars.time", "index": index},
        )
    for name in ("open", "high", "low", "close"):
        if not (np.isfinite(bars[name]).all() and (bars[name] > 0).all()):
            raise InvalidInputError(
                f"bars.{name} must be positive numbers",
                code="invalid_bars",
                details={"field": f"bars.{name}"},
            )
    return bars


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
        return {name: rates[name] for name in BAR_FIELDS}

    async def latest(
        self, symbol: str, timeframe: str, count: int
    ) -> tuple[dict[str, np.ndarray], Coverage | None]:
        """The newest `count` bars, and the data service's coverage of them (None if it does not say)."""
        rates, coverage = await self._client.ohlc(symbol, timeframe, count=count)
        return {name: rates[name] for name in BAR_FIELDS}, coverage
