"""The simulated terminal: the Terminal interface over the deterministic market and the paper broker.

Market data is history up to the clock's now, never a future tick. Account, orders, positions and
history are the paper broker's; `sync()` feeds it every tick it has not seen yet, in time order, and runs
before every trading call so pending orders and SL/TP are settled against the prices they crossed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from services.mt5.core.simulated.broker import BrokerEvent, PaperBroker, matches_group
from services.mt5.core.simulated.broker_accounting import PaperAccountSettings, Pricing
from services.mt5.core.simulated.broker_store import BrokerStore
from services.mt5.core.simulated.clock import Clock
from services.mt5.core.simulated.feed import (
    SIMULATED_BUILD,
    MarketFeed,
    simulated_symbol_info,
    simulated_terminal_info,
)
from services.mt5.core.simulated.market import HOUR_MS, DeterministicMarket
from services.mt5.core.terminal import TimeArg, to_epoch_ms
from shared.errors import NotFoundError
from shared.market import mt5_constants as mt5
from shared.market.records import (
    TICKS_DTYPE,
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from shared.market.symbols import SymbolSpec
from shared.market.timeframes import TIMEFRAMES_BY_CODE, Timeframe

T = TypeVar("T")

_INFO_FLAGS = mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK
_TRADE_FLAGS = mt5.TICK_FLAG_LAST | mt5.TICK_FLAG_VOLUME
_NO_CONNECTION = (mt5.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")


class SimulatedTerminal:
    """A MetaTrader5-shaped terminal on a simulated market; trading goes to the paper broker when given."""

    def __init__(
        self,
        feed: MarketFeed,
        *,
        broker: PaperBroker | None = None,
        settings: PaperAccountSettings | None = None,
    ) -> None:
        self._feed = feed
        self._market = feed.market
        self._clock = feed.clock
        self._broker = broker
        self._settings = settings or PaperAccountSettings()
        self._pricing = Pricing(
            {s: self._market.spec(s) for s in self._market.symbols}, self._settings, feed.quote
        )
        self._connected = False
        self._error: tuple[int, str] = (mt5.RES_S_OK, "Success")
        self._events: list[BrokerEvent] = []
        # One lock orders broker work: a sync and a trade request never interleave.
        self._lock = threading.RLock()

    # ----- connection ------------------------------------------------------------------------------------

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int = 60_000,
        portable: bool = False,
    ) -> bool:
        """Connect; the simulated terminal needs no path or credentials."""
        self._connected = True
        return self._ok(True)

    def login(
        self, login: int, *, password: str | None = None, server: str | None = None, timeout: int = 60_000
    ) -> bool:
        if not self._connected:
            return self._fail(False, *_NO_CONNECTION)
        if login != self._settings.login:
            return self._fail(False, mt5.RES_E_AUTH_FAILED, f"Authorization failed for account {login}")
        return self._ok(True)

    def shutdown(self) -> None:
        self._connected = False

    def last_error(self) -> tuple[int, str]:
        return self._error

    def version(self) -> tuple[int, int, str] | None:
        return self._ok((500, SIMULATED_BUILD, "simulated"))

    def terminal_info(self) -> TerminalInfo | None:
        return self._ok(
            simulated_terminal_info(
                connected=self._connected,
                trade_allowed=self._broker is not None,
                company=self._settings.company,
            )
        )

    # ----- symbols ---------------------------------------------------------------------------------------

    def symbols_total(self) -> int:
        return len(self._market.symbols)

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        if not self._connected:
            return self._fail(None, *_NO_CONNECTION)
        names = [s for s in self._market.symbols if matches_group(s, group)]
        return self._ok(tuple(self._symbol_info(s) for s in names))

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        return self._with_symbol(symbol, lambda: self._symbol_info(symbol))

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        return self._with_symbol(symbol, lambda: self._feed.quote(symbol))

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        """Every simulated symbol is always in Market Watch; selecting a known one succeeds."""
        return self._with_symbol(symbol, lambda: True) is True

    def symbol_spec(self, symbol: str) -> SymbolSpec:
        if symbol not in self._market.symbols:
            raise NotFoundError(
                f"unknown symbol {symbol!r}", code="unknown_symbol", details={"symbol": symbol}
            )
        return self._market.spec(symbol)

    def _symbol_info(self, symbol: str) -> SymbolInfo:
        spec = self._market.spec(symbol)
        tick = self._feed.quote(symbol)
        rate = self._pricing.rate(spec.currency_profit, self._settings.currency)
        tick_value = spec.trade_tick_size * spec.contract_size * rate if rate is not None else 0.0
        return simulated_symbol_info(spec, tick, tick_value)

    # ----- market data -----------------------------------------------------------------------------------

    def copy_rates_from(
        self, symbol: str, timeframe: int, date_from: TimeArg, count: int
    ) -> np.ndarray | None:
        """`count` bars opening at or before date_from, oldest first."""

        def run(tf: Timeframe, now_ms: int) -> np.ndarray:
            end_s = to_epoch_ms(date_from) // 1000
            return self._market.rates_back(symbol, tf, end_s, count, now_ms + 1)

        return self._rates(symbol, timeframe, count, run)

    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> np.ndarray | None:
        """`count` bars ending `start_pos` bars back from the current, unfinished one (position 0)."""

        def run(tf: Timeframe, now_ms: int) -> np.ndarray:
            if start_pos < 0:
                raise ValueError("start_pos must not be negative")
            return self._market.rates_back(symbol, tf, now_ms // 1000, count, now_ms + 1, skip=start_pos)

        return self._rates(symbol, timeframe, count, run)

    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: TimeArg, date_to: TimeArg
    ) -> np.ndarray | None:
        """Bars with date_from <= open time <= date_to."""

        def run(tf: Timeframe, now_ms: int) -> np.ndarray:
            from_s, to_s = to_epoch_ms(date_from) // 1000, to_epoch_ms(date_to) // 1000
            return self._market.rates_range(symbol, tf, from_s, to_s, now_ms + 1)

        return self._rates(symbol, timeframe, 1, run)

    def copy_ticks_from(self, symbol: str, date_from: TimeArg, count: int, flags: int) -> np.ndarray | None:
        """The first `count` ticks at or after date_from (up to now) matching `flags`."""

        def run(now_ms: int) -> np.ndarray:
            if count < 0:
                raise ValueError("count must not be negative")
            if flags == mt5.COPY_TICKS_TRADE:  # FX quotes carry no trades: nothing to scan for
                return np.empty(0, dtype=TICKS_DTYPE)
            return self._market.ticks_forward(symbol, to_epoch_ms(date_from), count, now_ms + 1)

        return self._ticks(symbol, flags, run)

    def copy_ticks_range(
        self, symbol: str, date_from: TimeArg, date_to: TimeArg, flags: int
    ) -> np.ndarray | None:
        """Ticks with date_from <= time_msc <= date_to (up to now) matching `flags`."""

        def run(now_ms: int) -> np.ndarray:
            end_ms = min(to_epoch_ms(date_to), now_ms) + 1
            return self._market.ticks(symbol, to_epoch_ms(date_from), end_ms)

        return self._ticks(symbol, flags, run)

    def _rates(
        self, symbol: str, timeframe: int, count: int, run: Callable[[Timeframe, int], np.ndarray]
    ) -> np.ndarray | None:
        tf = TIMEFRAMES_BY_CODE.get(timeframe)
        if tf is None or count < 0:
            return self._fail(
                None, mt5.RES_E_INVALID_PARAMS, f"Invalid timeframe {timeframe} or count {count}"
            )
        return self._with_symbol(symbol, lambda: run(tf, self._clock.now_ms()))

    def _ticks(self, symbol: str, flags: int, run: Callable[[int], np.ndarray]) -> np.ndarray | None:
        if flags not in (mt5.COPY_TICKS_ALL, mt5.COPY_TICKS_INFO, mt5.COPY_TICKS_TRADE):
            return self._fail(None, mt5.RES_E_INVALID_PARAMS, f"Invalid flags {flags}")

        def filtered() -> np.ndarray:
            ticks = run(self._clock.now_ms())
            if flags == mt5.COPY_TICKS_ALL:
                return ticks
            wanted = _INFO_FLAGS if flags == mt5.COPY_TICKS_INFO else _TRADE_FLAGS
            return ticks[(ticks["flags"] & wanted) != 0]

        return self._with_symbol(symbol, filtered)

    # ----- trading (the paper broker) --------------------------------------------------------------------

    def sync(self) -> list[BrokerEvent]:
        """Feed the broker every tick after its last processed one up to now, hour by hour across symbols.

        Returns the broker's events since the previous sync, in order: those of trade requests made
        meanwhile, then those the new ticks caused (fills of pending orders, SL/TP, account updates).
        """
        with self._lock:
            self._settle()
            events, self._events = self._events, []
            return events

    def _settle(self) -> None:
        """Bring the broker up to now; its events wait in `_events` for the next sync()."""
        broker = self._broker
        if broker is None:
            return
        with self._lock:
            now_ms = self._clock.now_ms()
            events = self._events
            events += broker.drain_events()
            next_ms: dict[str, int] = {}
            for symbol in self._market.symbols:
                last = broker.last_processed_ms(symbol)
                if last is not None:
                    next_ms[symbol] = last + 1
                    continue
                # A fresh account starts at the current quote; it has nothing to settle from before.
                row = self._market.last_tick(symbol, now_ms + 1)
                if row is not None:
                    events += broker.on_ticks(symbol, np.array([row], dtype=TICKS_DTYPE))
            window = min(next_ms.values(), default=now_ms + 1)
            while window <= now_ms:
                window_end = min(window - window % HOUR_MS + HOUR_MS, now_ms + 1)
                for symbol, start in next_ms.items():
                    if start < window_end:
                        ticks = self._market.ticks(symbol, max(start, window), window_end)
                        if len(ticks):
                            events += broker.on_ticks(symbol, ticks)
                window = window_end

    def account_info(self) -> AccountInfo | None:
        return self._trading(lambda b: b.account_info())

    def orders_total(self) -> int | None:
        return self._trading(lambda b: b.orders_total())

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        return self._trading(lambda b: tuple(b.orders_get(symbol=symbol, group=group, ticket=ticket)))

    def positions_total(self) -> int | None:
        return self._trading(lambda b: b.positions_total())

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        return self._trading(lambda b: tuple(b.positions_get(symbol=symbol, group=group, ticket=ticket)))

    def history_orders_get(
        self,
        date_from: TimeArg | None = None,
        date_to: TimeArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        return self._trading(
            lambda b: tuple(
                b.history_orders_get(
                    date_from=date_from, date_to=date_to, group=group, ticket=ticket, position=position
                )
            )
        )

    def history_deals_get(
        self,
        date_from: TimeArg | None = None,
        date_to: TimeArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        return self._trading(
            lambda b: tuple(
                b.history_deals_get(
                    date_from=date_from, date_to=date_to, group=group, ticket=ticket, position=position
                )
            )
        )

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> float | None:
        return self._trading(lambda b: b.order_calc_margin(action, symbol, volume, price))

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        return self._trading(lambda b: b.order_calc_profit(action, symbol, volume, price_open, price_close))

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        return self._trading(lambda b: b.order_check(request))

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        return self._trading(lambda b: b.order_send(request))

    def _trading(self, call: Callable[[PaperBroker], T]) -> T | None:
        """Run a broker call after settling every tick up to now; fails like MT5 without a connection."""
        if not self._connected:
            return self._fail(None, *_NO_CONNECTION)
        if self._broker is None:
            return self._fail(None, mt5.RES_E_UNSUPPORTED, "No trading account on this terminal")
        with self._lock:
            self._settle()
            return self._ok(call(self._broker))

    # ----- errors ----------------------------------------------------------------------------------------

    def _with_symbol(self, symbol: str, call: Callable[[], T]) -> T | None:
        if not self._connected:
            return self._fail(None, *_NO_CONNECTION)
        if symbol not in self._market.symbols:
            return self._fail(None, mt5.RES_E_NOT_FOUND, f"Symbol {symbol!r} not found")
        try:
            return self._ok(call())
        except (TypeError, ValueError) as exc:  # bad date arguments, as MT5 reports them
            return self._fail(None, mt5.RES_E_INVALID_PARAMS, f"Invalid arguments: {exc}")

    def _ok(self, value: T) -> T:
        self._error = (mt5.RES_S_OK, "Success")
        return value

    def _fail(self, value: T, code: int, message: str) -> T:
        self._error = (code, message)
        return value


def build_simulated_terminal(
    symbols: Sequence[SymbolSpec],
    *,
    clock: Clock,
    store: BrokerStore,
    seed: int = 0,
    settings: PaperAccountSettings | None = None,
    market: DeterministicMarket | None = None,
) -> SimulatedTerminal:
    """The default terminal: a deterministic market on `clock` with a paper broker persisted in `store`.
    `market` is that market when the caller built it already (the replay clock's holds read it too)."""
    settings = settings or PaperAccountSettings()
    feed = MarketFeed(market or DeterministicMarket(symbols, seed=seed), clock)
    broker = PaperBroker(
        symbols={s.name: s for s in symbols},
        store=store,
        quote=feed.quote,
        is_open=feed.is_open,
        now_ms=clock.now_ms,
        settings=settings,
    )
    return SimulatedTerminal(feed, broker=broker, settings=settings)
