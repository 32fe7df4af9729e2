"""A hand-driven quote feed and clock for paper-broker tests (real broker, real SQLite file)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from services.mt5.core.simulated.broker import PaperAccountSettings, PaperBroker
from services.mt5.core.simulated.broker_accounting import money
from services.mt5.core.simulated.broker_store import BrokerStore
from shared.market import mt5_constants as mt5
from shared.market.calendar import WeeklyCalendar
from shared.market.records import TICKS_DTYPE, Tick
from shared.market.symbols import DEFAULT_SYMBOLS, SymbolSpec

SYMBOLS = {s.name: s for s in DEFAULT_SYMBOLS}
MONDAY_MS = int(datetime(2024, 6, 3, 12, tzinfo=UTC).timestamp() * 1000)
SATURDAY_MS = int(datetime(2024, 6, 8, 12, tzinfo=UTC).timestamp() * 1000)
START_QUOTES = {
    "EURUSD": (1.10000, 1.10010),
    "GBPUSD": (1.27000, 1.27015),
    "USDJPY": (150.000, 150.014),
    "XAUUSD": (2350.00, 2350.25),
}


class Market:
    """Current quotes and clock that the test moves by hand."""

    def __init__(self, now_ms: int = MONDAY_MS) -> None:
        self.now = now_ms
        self.quotes: dict[str, Tick] = {}
        self.calendar = WeeklyCalendar()
        for symbol, (bid, ask) in START_QUOTES.items():
            self.set(symbol, bid, ask)

    def set(self, symbol: str, bid: float, ask: float) -> None:
        self.quotes[symbol] = _tick(self.now, bid, ask)

    def quote(self, symbol: str) -> Tick | None:
        return self.quotes.get(symbol)

    def is_open(self, symbol: str, ms: int) -> bool:
        return self.calendar.is_open(ms // 1000)

    def now_ms(self) -> int:
        return self.now

    def ticks(self, symbol: str, *prices: tuple[float, float], step_ms: int = 100) -> np.ndarray:
        """Ticks after the clock, `step_ms` apart; the clock and the quote move to the last one."""
        array = np.zeros(len(prices), dtype=TICKS_DTYPE)
        for i, (bid, ask) in enumerate(prices):
            self.now += step_ms
            array[i] = tuple(_tick(self.now, bid, ask))
        self.quotes[symbol] = _tick(self.now, *prices[-1])
        return array


def _tick(ms: int, bid: float, ask: float) -> Tick:
    return Tick(ms // 1000, bid, ask, 0.0, 0, ms, mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK, 0.0)


def make_broker(
    path: Path, market: Market, *, symbols: Mapping[str, SymbolSpec] = SYMBOLS, **settings: Any
) -> PaperBroker:
    """A paper broker on the SQLite file at `path` (continuing it when it exists)."""
    return PaperBroker(
        symbols=symbols,
        store=BrokerStore.open(path),
        quote=market.quote,
        is_open=market.is_open,
        now_ms=market.now_ms,
        settings=PaperAccountSettings(**settings),
    )


def market_order(symbol: str, order_type: int, volume: float, **extra: Any) -> dict[str, Any]:
    return {"action": mt5.TRADE_ACTION_DEAL, "symbol": symbol, "type": order_type, "volume": volume, **extra}


def pending_order(symbol: str, order_type: int, volume: float, price: float, **extra: Any) -> dict[str, Any]:
    return {
        "action": mt5.TRADE_ACTION_PENDING,
        "symbol": symbol,
        "type": order_type,
        "volume": volume,
        "price": price,
        **extra,
    }


def assert_books_balance(broker: PaperBroker) -> None:
    """Balance is the sum of all deals; each open position's volume is its IN minus its OUT deals."""
    deals = broker.history_deals_get()
    booked = sum((Decimal(repr(d.profit)) + Decimal(repr(d.commission)) for d in deals), Decimal(0))
    assert broker.account_info().balance == money(booked)
    net: dict[int, Decimal] = defaultdict(Decimal)
    for d in deals:
        if d.position_id:
            sign = 1 if d.entry == mt5.DEAL_ENTRY_IN else -1
            net[d.position_id] += sign * Decimal(repr(d.volume))
    assert {p.ticket: Decimal(repr(p.volume)) for p in broker.positions_get()} == {
        t: v for t, v in net.items() if v
    }
