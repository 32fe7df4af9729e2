"""In-memory stand-ins for the strategy service's ports (ports.Broker, ports.BarSource).

The broker follows the mt5 service's contract where the runner depends on it: a client order id sent
twice trades once and returns the first result; the same id with another request is a 409; the kill
switch refuses entries (403 `trading_halted`) but never closes; closing a position that is gone is a 404
`position_not_found`; `unreachable` makes every call a 503,
and `lose_answers` trades but answers 503 (the reply lost on the way back).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from services.strategy.core.ports import Position, Quote
from shared.errors import ConflictError, ForbiddenError, NotFoundError, ServiceUnavailableError
from shared.market import mt5_constants as mt5
from shared.market.records import RATES_DTYPE
from shared.market.symbols import DEFAULT_SYMBOLS

SPECS = {s.name: s for s in DEFAULT_SYMBOLS}


class FakeBroker:
    """A hedging paper account filled at the quote set by the test."""

    def __init__(self, *, equity: float = 10_000.0, bid: float = 1.1, spread: float = 0.0001) -> None:
        self.equity_value = equity
        self.bid, self.spread = bid, spread
        self.halted = False
        self.unreachable = False
        self.lose_answers = False  # trade, then fail as if the answer were lost on the way back
        self.market_ms: int | None = None  # the market's clock as mt5 tells it; None: it cannot say
        self.open: dict[int, Position] = {}
        self.realized: list[tuple[int, float]] = []  # (magic, money)
        self.executed: list[str] = []  # client ids that actually traded, in order
        self.requests: list[dict[str, Any]] = []
        self._results: dict[str, tuple[str, dict[str, Any]]] = {}
        self._ticket = 1000

    # ---- ports.Broker -----------------------------------------------------------------------------------

    async def quote(self, symbol: str) -> Quote:
        self._reachable()
        spec = SPECS[symbol]
        return Quote(spec, spec.contract_size, self.bid, self.bid + self.spread)

    async def equity(self) -> float:
        self._reachable()
        return self.equity_value

    async def positions(self, symbol: str | None = None) -> list[Position]:
        self._reachable()
        return [p for p in self.open.values() if symbol is None or p.symbol == symbol]

    async def send(self, request: Mapping[str, Any], client_id: str) -> dict[str, Any]:
        self._reachable()
        first = self._first(client_id, request)
        if first is not None:
            return first
        if self.halted:
            raise ForbiddenError(
                "trading is halted (kill switch)", code="trading_halted", details={"rule": "kill_switch"}
            )
        buy = request["type"] == "BUY"
        price = self.bid + self.spread if buy else self.bid
        self._ticket += 1
        self.open[self._ticket] = Position(
            ticket=self._ticket,
            symbol=request["symbol"],
            type=mt5.POSITION_TYPE_BUY if buy else mt5.POSITION_TYPE_SELL,
            magic=request["magic"],
            volume=request["volume"],
            price_open=price,
            sl=request["sl"],
            tp=request["tp"],
            profit=0.0,
            time=0,
        )
        return self._done(client_id, request, {"retcode": 10009, "order": self._ticket, "price": price})

    async def close(self, ticket: int, client_id: str, **extra: Any) -> dict[str, Any]:
        self._reachable()
        request = {"ticket": ticket, **extra}
        first = self._first(client_id, request)
        if first is not None:
            return first
        position = self.open.pop(ticket, None)
        if position is None:
            raise NotFoundError(f"no open position with ticket {ticket}", code="position_not_found")
        self.realized.append((position.magic, position.profit))
        return self._done(client_id, request, {"retcode": 10009, "order": ticket, "price": self.bid})

    async def closed_profit(self, magic: int, from_s: int) -> float:
        self._reachable()
        return sum(money for m, money in self.realized if m == magic)

    async def market_now_ms(self) -> int | None:
        return self.market_ms

    # ---- test controls ------------------------------------------------------------------------------------

    def mark(self, profit_per_position: float) -> None:
        """Value every open position at `profit_per_position`."""
        self.open = {t: _with_profit(p, profit_per_position) for t, p in self.open.items()}

    def add_position(self, *, magic: int, symbol: str = "EURUSD", buy: bool = True) -> Position:
        self._ticket += 1
        position = Position(self._ticket, symbol, 0 if buy else 1, magic, 0.01, self.bid, 0.0, 0.0, 0.0, 0)
        self.open[self._ticket] = position
        return position

    def _first(self, client_id: str, request: Mapping[str, Any]) -> dict[str, Any] | None:
        stored = self._results.get(client_id)
        if stored is None:
            return None
        fingerprint, result = stored
        if fingerprint != repr(sorted(request.items())):
            raise ConflictError("client order id reused for another request", code="client_order_id_reused")
        return result

    def _done(self, client_id: str, request: Mapping[str, Any], result: dict[str, Any]) -> dict[str, Any]:
        self._results[client_id] = (repr(sorted(request.items())), result)
        self.executed.append(client_id)
        self.requests.append(dict(request))
        if self.lose_answers:
            raise ServiceUnavailableError("mt5 did not answer", code="mt5_unavailable")
        return result

    async def wait(self, symbol: str, timeframe: str, bar_time: int) -> bool:
        self._reachable()
        if self.fail_wait:
            raise ServiceUnavailableError("mt5 is not reachable", code="mt5_unavailable")
        self.waited.append((symbol, timeframe, bar_time, len(self.broker.executed)))
        return True

    def _reachable(self) -> None:
        if self.unreachable:
            raise ServiceUnavailableError("mt5 is not reachable", code="mt5_unavailable")


def _with_profit(position: Position, profit: float) -> Position:
    fields = position.to_dict()
    fields["profit"] = profit
    return Position(**fields)


class FakeBars:
    """Stored bars of one series; counts the fetches."""

    def __init__(self, bars: np.ndarray) -> None:
        self.stored = bars
        self.fetches = 0

    async def bars(self, symbol: str, timeframe: str, *, to_s: int, count: int) -> np.ndarray:
        self.fetches += 1
        upto = self.stored[self.stored["time"] <= to_s]
        return upto[-count:].copy()


def make_bars(
    closes: list[float] | np.ndarray, *, start_s: int = 1_700_006_400, step_s: int = 900
) -> np.ndarray:
    """RATES_DTYPE bars with the given closes (open = previous close), `step_s` apart."""
    closes = np.asarray(closes, dtype=np.float64)
    bars = np.zeros(len(closes), dtype=RATES_DTYPE)
    bars["time"] = start_s + step_s * np.arange(len(closes))
    bars["close"] = closes
    bars["open"] = np.r_[closes[0], closes[:-1]]
    bars["high"] = np.maximum(bars["open"], closes) + 0.0002
    bars["low"] = np.minimum(bars["open"], closes) - 0.0002
    bars["spread"] = 10
    bars["tick_volume"] = 100
    return bars


class FakeClockHolds:
    """The mt5 service's replay clock holds (ports.ClockHolds): records registrations and releases, with
    how many orders the broker had executed at each release (a release must follow its candle's orders)."""

    def __init__(self, broker: FakeBroker, *, replay: bool = True, lease_s: float = 30.0) -> None:
        self.broker = broker
        self.replay = replay
        self.lease_s = lease_s
        self.fail = False  # every call answers 503
        self.fail_wait = False  # waits answer 503
        self.registered: list[list[tuple[str, str]]] = []
        self.released: list[tuple[str, str, int, int]] = []  # (symbol, timeframe, bar_time, executed)
        self.waited: list[tuple[str, str, int, int]] = []  # (symbol, timeframe, bar_time, executed)

    async def is_replay(self) -> bool:
        self._reachable()
        return self.replay

    async def register(self, streams: list[tuple[str, str]]) -> float | None:
        self._reachable()
        if not self.replay:
            raise ConflictError("not a replay", code="clock_not_replay")
        self.registered.append(list(streams))
        return self.lease_s if streams else None

    async def release(self, symbol: str, timeframe: str, bar_time: int) -> None:
        self._reachable()
        self.released.append((symbol, timeframe, bar_time, len(self.broker.executed)))

    async def wait(self, symbol: str, timeframe: str, bar_time: int) -> bool:
        self._reachable()
        if self.fail_wait:
            raise ServiceUnavailableError("mt5 is not reachable", code="mt5_unavailable")
        self.waited.append((symbol, timeframe, bar_time, len(self.broker.executed)))
        return True

    def _reachable(self) -> None:
        if self.fail:
            raise ServiceUnavailableError("mt5 is not reachable", code="mt5_unavailable")
