"""The paper broker: an MT5 hedging account (RETAIL_HEDGING) filled against the simulated market.

It answers the trading half of the MetaTrader5 surface with MT5's return shapes, triggers pending orders,
SL/TP and stop-out on the ticks the terminal feeds it, and persists every change in one transaction per
request or tick batch (see broker_store). Money rules are in broker_accounting, request checks in
broker_execution, tick triggers in broker_triggers, margin call and stop-out in broker_stopout.
Thread-safe: one lock serialises requests and tick batches.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any, TypeVar

import numpy as np

from services.mt5.core.simulated.broker_accounting import (
    PaperAccountSettings,
    Pricing,
    account_snapshot,
    is_buy,
    money,
)
from services.mt5.core.simulated.broker_execution import SUCCESS_RETCODES, OrderExecutor
from services.mt5.core.simulated.broker_ledger import BrokerEvent, Tx
from services.mt5.core.simulated.broker_store import BrokerState, BrokerStore
from services.mt5.core.simulated.broker_triggers import process_ticks
from shared.event_catalog import ORDER_REJECTED
from shared.market import mt5_constants as mt5
from shared.market.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from shared.market.symbols import SymbolSpec

__all__ = ["BrokerEvent", "PaperAccountSettings", "PaperBroker", "matches_group"]

T = TypeVar("T", TradeOrder, TradePosition, TradeDeal)
DateLike = datetime | int | float | None
PROGRESS_SAVE_INTERVAL_S = 1.0


class PaperBroker:
    """A persistent paper account with MT5's trading functions."""

    def __init__(
        self,
        *,
        symbols: Mapping[str, SymbolSpec],
        store: BrokerStore,
        quote: Callable[[str], Tick | None],
        is_open: Callable[[str, int], bool],
        now_ms: Callable[[], int],
        settings: PaperAccountSettings,
    ) -> None:
        self._symbols = dict(symbols)
        self._store = store
        self._quote = quote
        self._now_ms = now_ms
        self._settings = settings
        self._executor = OrderExecutor(self._symbols, settings, quote, is_open)
        self._pricing = Pricing(self._symbols, settings, quote)
        self._lock = threading.RLock()
        self._request_events: list[BrokerEvent] = []
        self._state = store.load() or self._open_account()
        self._saved = self._state  # the state as the database has it (the last commit)
        self._saved_at = time.monotonic()

    # ---- feed ---------------------------------------------------------------------------------------------

    def on_ticks(self, symbol: str, ticks: np.ndarray) -> list[BrokerEvent]:
        """Process ticks (TICKS_DTYPE, time order) after the last processed one; returns what happened."""
        with self._lock:
            last = self._state.last_ms.get(symbol)
            if last is not None:
                ticks = ticks[ticks["time_msc"] > last]
            if symbol not in self._symbols or ticks.size == 0:
                return []
            tx = Tx(self._state.copy(), self._now_ms())
            triggered = process_ticks(self._executor.ledger, tx, symbol, ticks)
            tx.state.last_ms[symbol] = int(ticks["time_msc"][-1])
            if triggered or last is None or time.monotonic() - self._saved_at >= PROGRESS_SAVE_INTERVAL_S:
                self._commit(tx)
            else:
                # Only the feed progress moved. It is saved with the next change or within a second:
                # after a crash the ticks since the saved progress are processed again, and as they
                # triggered nothing they trigger nothing again. A commit per sync cost ~1 ms every 10 ms.
                self._state = tx.state
            return tx.events

    def last_processed_ms(self, symbol: str) -> int | None:
        """time_msc of the last tick processed for `symbol` (persisted), or None before the first."""
        with self._lock:
            return self._state.last_ms.get(symbol)

    def drain_events(self) -> list[BrokerEvent]:
        """Events produced by order_send since the last call (tick events are returned by on_ticks)."""
        with self._lock:
            events, self._request_events = self._request_events, []
            return events

    # ---- trading ------------------------------------------------------------------------------------------

    def order_send(self, request: dict[str, Any]) -> OrderSendResult:
        """Execute a trade request; a refused one changes nothing and returns MT5's retcode."""
        with self._lock:
            tx = Tx(self._state.copy(), self._now_ms())
            result = self._executor.send(tx, request)
            if result.retcode in SUCCESS_RETCODES:
                self._commit(tx)
                self._request_events.extend(tx.events)
            else:
                self._request_events.append(
                    BrokerEvent(
                        ORDER_REJECTED,
                        {
                            "retcode": result.retcode,
                            "comment": result.comment,
                            "request": result.request._asdict(),
                        },
                    )
                )
            return result

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult:
        """What order_send would do, on a throw-away copy: retcode 0 "Done" and the account after it."""
        with self._lock:
            tx = Tx(self._state.copy(), self._now_ms())
            result = self._executor.send(tx, request)
            passed = result.retcode in SUCCESS_RETCODES
            state = tx.state if passed else self._state
            account = account_snapshot(
                self._settings, self._executor.ledger.pricing(tx), state.balance, state.positions.values()
            )
            return OrderCheckResult(
                retcode=0 if passed else result.retcode,
                balance=account.balance,
                equity=account.equity,
                profit=account.profit,
                margin=account.margin,
                margin_free=account.margin_free,
                margin_level=account.margin_level,
                comment="Done" if passed else result.comment,
                request=result.request,
            )

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> float | None:
        """Margin in account currency for a BUY/SELL of `volume` lots at `price`; None when not computable."""
        spec = self._symbols.get(symbol)
        if (
            spec is None
            or action not in (mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL)
            or volume <= 0
            or price <= 0
        ):
            return None
        return self._pricing.margin(spec, volume, price)

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        """Profit in account currency of a BUY/SELL from `price_open` to `price_close`."""
        spec = self._symbols.get(symbol)
        if spec is None or action not in (mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL) or volume <= 0:
            return None
        return self._pricing.profit(spec, action, volume, price_open, price_close)

    # ---- queries ------------------------------------------------------------------------------------------

    def account_info(self) -> AccountInfo:
        """The account at the current quotes."""
        with self._lock:
            return account_snapshot(
                self._settings, self._pricing, self._state.balance, self._state.positions.values()
            )

    def orders_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...]:
        """Open pending orders, with price_current at the current quote."""
        with self._lock:
            orders = _select(self._state.orders.values(), symbol, group, ticket)
        return tuple(self._with_current_price(o) for o in orders)

    def orders_total(self) -> int:
        with self._lock:
            return len(self._state.orders)

    def positions_get(
        self, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...]:
        """Open positions, revalued at the current quotes."""
        with self._lock:
            positions = _select(self._state.positions.values(), symbol, group, ticket)
        return tuple(self._pricing.revalue(p) for p in positions)

    def positions_total(self) -> int:
        with self._lock:
            return len(self._state.positions)

    def history_orders_get(
        self,
        date_from: DateLike = None,
        date_to: DateLike = None,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...]:
        """Finished orders set up in [date_from, date_to] (UTC), by ticket or by position id."""
        rows = self._store.history_orders(
            time_from_s=_epoch_s(date_from), time_to_s=_epoch_s(date_to), ticket=ticket, position=position
        )
        return tuple(_select(rows, None, group, None))

    def history_deals_get(
        self,
        date_from: DateLike = None,
        date_to: DateLike = None,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...]:
        """Deals done in [date_from, date_to] (UTC); `ticket` filters by ORDER ticket, `position` by id."""
        rows = self._store.history_deals(
            time_from_s=_epoch_s(date_from), time_to_s=_epoch_s(date_to), order=ticket, position=position
        )
        return tuple(_select(rows, None, group, None))

    # ---- internals ----------------------------------------------------------------------------------------

    def _open_account(self) -> BrokerState:
        """A new account; the initial balance arrives as a BALANCE deal, as a deposit does in MT5."""
        tx = Tx(BrokerState(balance=money(self._settings.initial_balance)), self._now_ms())
        deposit = TradeDeal(
            ticket=tx.deal_ticket(),
            order=0,
            time=tx.now_ms // 1000,
            time_msc=tx.now_ms,
            type=mt5.DEAL_TYPE_BALANCE,
            entry=mt5.DEAL_ENTRY_IN,
            magic=0,
            position_id=0,
            reason=mt5.DEAL_REASON_CLIENT,
            volume=0.0,
            price=0.0,
            commission=0.0,
            swap=0.0,
            profit=tx.state.balance,
            fee=0.0,
            symbol="",
            comment="Initial deposit",
            external_id="",
        )
        self._store.commit(None, tx.state, deals=[deposit])
        return tx.state

    def _commit(self, tx: Tx) -> None:
        # Persist first: if the write fails, memory keeps the previous state, as the database does.
        # The difference is taken from the saved state, so progress not saved yet goes with it.
        self._store.commit(self._saved, tx.state, finished_orders=tx.finished_orders, deals=tx.deals)
        self._state = self._saved = tx.state
        self._saved_at = time.monotonic()

    def _with_current_price(self, order: TradeOrder) -> TradeOrder:
        tick = self._quote(order.symbol)
        if tick is None:
            return order
        return order._replace(price_current=tick.ask if is_buy(order.type) else tick.bid)


def matches_group(name: str, group: str | None) -> bool:
    """MT5's group filter: comma-separated wildcard patterns; `!pattern` excludes (e.g. "*USD*,!EUR*")."""
    if not group:
        return True
    included = False
    for pattern in (p.strip() for p in group.split(",")):
        if pattern.startswith("!"):
            if fnmatchcase(name, pattern[1:]):
                return False
        elif pattern and fnmatchcase(name, pattern):
            included = True
    return included


def _select(records: Iterable[T], symbol: str | None, group: str | None, ticket: int | None) -> list[T]:
    return sorted(
        (
            r
            for r in records
            if (symbol is None or r.symbol == symbol)
            and (ticket is None or r.ticket == ticket)
            and matches_group(r.symbol, group)
        ),
        key=lambda r: r.ticket,
    )


def _epoch_s(value: DateLike) -> int | None:
    """Epoch seconds of a datetime (naive means UTC inside the platform) or a number of seconds."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(aware.timestamp())
    return int(value)
