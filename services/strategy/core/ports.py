"""What a runner needs from the outside: bars (data service) and a broker (mt5 service), as protocols.

The HTTP implementations are in `remote.py`; tests pass in-memory ones. A refusal by the broker is a
PlatformError with a 4xx status (kill switch, risk guard, terminal retcode); an unreachable broker is a
503/504, after which the outcome of the request is unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from shared.market import mt5_constants as mt5
from shared.market.symbols import SymbolSpec


@dataclass(frozen=True, slots=True)
class Quote:
    """A symbol's trading facts and its current bid/ask."""

    spec: SymbolSpec
    value_per_price: float  # account money per 1.0 price move per lot
    bid: float
    ask: float


@dataclass(frozen=True, slots=True)
class Position:
    """The fields of MT5's TradePosition a runner uses."""

    ticket: int
    symbol: str
    type: int
    magic: int
    volume: float
    price_open: float
    sl: float
    tp: float
    profit: float
    time: int

    @property
    def direction(self) -> int:
        """+1 long, -1 short."""
        return 1 if self.type == mt5.POSITION_TYPE_BUY else -1

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Position:
        return cls(**{name: data[name] for name in cls.__slots__})

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class Broker(Protocol):
    """The mt5 service, as far as a runner is concerned."""

    async def quote(self, symbol: str) -> Quote: ...

    async def equity(self) -> float: ...

    async def positions(self, symbol: str | None = None) -> list[Position]: ...

    async def send(self, request: Mapping[str, Any], client_id: str) -> dict[str, Any]:
        """POST /orders with the client order id; the accepted result (OrderSendResult fields)."""
        ...

    async def close(self, ticket: int, client_id: str, **extra: Any) -> dict[str, Any]:
        """Close a whole position under a client order id; the accepted result."""
        ...

    async def closed_profit(self, magic: int, from_s: int) -> float:
        """Money made by the deals of `magic` since `from_s` (profit, commission, swap and fees)."""
        ...

    async def market_now_ms(self) -> int | None:
        """The market's time by the mt5 service's clock (real, replay or a terminal's); None if it cannot say."""
        ...


class ClockHolds(Protocol):
    """The replay clock's decision holds at the mt5 service (lockstep.py)."""

    async def is_replay(self) -> bool:
        """True when the market's clock is a replay that holds."""
        ...

    async def register(self, streams: list[tuple[str, str]]) -> float | None:
        """Hold at the new bars of these (symbol, timeframe) streams only; the lease in seconds (None:
        nothing registered)."""
        ...

    async def wait(self, symbol: str, timeframe: str, bar_time: int) -> bool:
        """Return once the clock stands at (or past) the hold after the candle of (symbol, timeframe)
        opening at `bar_time`, or the clock's hold timeout passed; True when it is held there."""
        ...

    async def release(self, symbol: str, timeframe: str, bar_time: int) -> None:
        """The candle of (symbol, timeframe) opening at `bar_time` was handled."""
        ...


class BarSource(Protocol):
    """The data service's stored bars."""

    async def bars(self, symbol: str, timeframe: str, *, to_s: int, count: int) -> np.ndarray:
        """The newest `count` bars opening at or before `to_s` (RATES_DTYPE, oldest first)."""
        ...
