"""Tick-driven fills: SL/TP, pending orders, expirations and stop-out, found with numpy over a batch of ticks.

The ticks are walked in time order, but not one by one: for every armed level the first tick that reaches
it is found vectorised, the earliest is applied, and the search resumes from that tick. At one tick, SL
comes before TP, then expirations, then pending triggers, each by ticket; then the account-level checks
(margin call, then stop-out, see broker_stopout) run on the account those left: the trader's own orders
at a price go before the broker's forced close, so an SL that lifts the margin level above the stop-out
level on the same tick spares the other positions. A position opened by a trigger is checked from the
next tick on. Fills happen at the triggering tick's market price (bid for a long's close or a sell, ask
otherwise), so a gap through a level fills at the gapped price, as on a real server. Since SL and TP of
one position test the same price, one tick can reach only one of them; the "SL first" rule decides ties
between different levels reached on the same tick."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from services.mt5.core.simulated.broker_accounting import close_price, is_buy
from services.mt5.core.simulated.broker_checks import TradeRefused
from services.mt5.core.simulated.broker_ledger import Ledger, Tx
from services.mt5.core.simulated.broker_stopout import AccountWatch
from services.mt5.core.simulated.broker_store import BrokerState
from shared.event_catalog import ORDER_CANCELLED, ORDER_FILLED, ORDER_REJECTED
from shared.market import mt5_constants as mt5
from shared.market.records import Tick

_SL, _TP, _EXPIRE, _PENDING = 0, 1, 2, 3


class _Trigger(NamedTuple):
    tick: int
    rank: int
    ticket: int
    level: float


def process_ticks(ledger: Ledger, tx: Tx, symbol: str, ticks: np.ndarray) -> int:
    """Apply, in time order, every SL/TP, pending trigger, expiration and stop-out that `ticks` reach;
    returns how many were applied (0: the ticks changed nothing; margin-call events alone do not count)."""
    applied = 0
    bid, ask, times = ticks["bid"], ticks["ask"], ticks["time_msc"]
    not_before: dict[int, int] = {}
    unclosable: set[int] = set()
    watch = AccountWatch(ledger, symbol, ticks)
    start = checked = 0  # triggers are searched from `start`, the account is checked from `checked`
    while True:
        trigger = _next_trigger(tx.state, symbol, bid, ask, times, start, not_before)
        # The account is checked up to, not at, the next trigger's tick: there the trigger goes first.
        end = len(ticks) if trigger is None else trigger.tick
        stop_out = watch.scan(tx, checked, end, unclosable)
        checked = end
        if stop_out is not None:
            _move_to(tx, symbol, ticks, stop_out.tick)
            trial = tx.fork()
            checked = stop_out.tick
            try:
                watch.apply(trial, stop_out)
            except TradeRefused:
                # No quote to value the close: the next most losing position goes instead.
                unclosable.add(stop_out.ticket)
                continue
            tx.adopt(trial)
            applied += 1
            start = stop_out.tick
            continue
        if trigger is None:
            return applied
        tick = _move_to(tx, symbol, ticks, trigger.tick)
        trial = tx.fork()
        try:
            opened = _apply(ledger, trial, tx, trigger, tick)
        except TradeRefused:
            # Only a missing conversion quote gets here; the level stays armed for the next batch.
            not_before[trigger.ticket] = len(ticks)
            continue
        tx.adopt(trial)
        applied += 1
        if opened:
            not_before[opened] = trigger.tick + 1
        start = trigger.tick


def _move_to(tx: Tx, symbol: str, ticks: np.ndarray, index: int) -> Tick:
    """Set the transaction's clock and this symbol's price to tick `index`."""
    tick = Tick(*ticks[index].item())
    tx.now_ms = tick.time_msc
    tx.ticks[symbol] = tick
    return tick


def _apply(ledger: Ledger, trial: Tx, tx: Tx, trigger: _Trigger, tick: Tick) -> int | None:
    """Apply one trigger on `trial`; returns the ticket of a position it opened."""
    if trigger.rank in (_SL, _TP):
        position = trial.state.positions[trigger.ticket]
        spec = ledger.symbols[position.symbol]
        reason = mt5.DEAL_REASON_SL if trigger.rank == _SL else mt5.DEAL_REASON_TP
        comment = f"[{'sl' if trigger.rank == _SL else 'tp'} {trigger.level:.{spec.digits}f}]"
        ledger.close_by_server(trial, position, close_price(position.type, tick), reason, comment)
        return None
    order = trial.state.orders[trigger.ticket]
    if trigger.rank == _EXPIRE:
        ledger.finish_order(trial, order, mt5.ORDER_STATE_EXPIRED, ORDER_CANCELLED)
        return None
    price = tick.ask if is_buy(order.type) else tick.bid
    filled = ledger.finish_order(
        trial,
        order,
        mt5.ORDER_STATE_FILLED,
        ORDER_FILLED,
        volume_current=0.0,
        position_id=order.ticket,
        price_current=price,
    )
    ledger.open_position(trial, filled, price)
    try:
        ledger.require_free_margin(trial)
    except TradeRefused:
        # Not enough money at the trigger: the order is rejected instead (on a fresh trial of `tx`).
        trial.adopt(tx.fork())
        ledger.finish_order(trial, trial.state.orders[order.ticket], mt5.ORDER_STATE_REJECTED, ORDER_REJECTED)
        return None
    return order.ticket


def _next_trigger(
    state: BrokerState,
    symbol: str,
    bid: np.ndarray,
    ask: np.ndarray,
    times: np.ndarray,
    start: int,
    not_before: dict[int, int],
) -> _Trigger | None:
    """The earliest (tick index, rank, ticket) any armed level reaches from `start` on."""
    found: list[_Trigger] = []
    at_or_below, at_or_above = np.less_equal, np.greater_equal

    def first(
        ticket: int, since_ms: int, rank: int, level: float, series: np.ndarray, reached: np.ufunc
    ) -> None:
        """Record the first tick from max(start, since_ms, not_before) where `series` reaches `level`."""
        lo = max(start, not_before.get(ticket, 0), int(np.searchsorted(times, since_ms, "left")))
        hit = reached(series[lo:], level)
        if hit.size:
            i = int(np.argmax(hit))
            if hit[i]:
                found.append(_Trigger(lo + i, rank, ticket, level))

    for p in state.positions.values():
        if p.symbol != symbol:
            continue
        long = p.type == mt5.POSITION_TYPE_BUY
        price = bid if long else ask
        if p.sl:
            first(p.ticket, p.time_msc, _SL, p.sl, price, at_or_below if long else at_or_above)
        if p.tp:
            first(p.ticket, p.time_msc, _TP, p.tp, price, at_or_above if long else at_or_below)
    for o in state.orders.values():
        if o.symbol != symbol:
            continue
        if o.time_expiration:
            first(o.ticket, o.time_setup_msc, _EXPIRE, o.time_expiration * 1000, times, at_or_above)
        series, reached = {
            mt5.ORDER_TYPE_BUY_LIMIT: (ask, at_or_below),
            mt5.ORDER_TYPE_BUY_STOP: (ask, at_or_above),
            mt5.ORDER_TYPE_SELL_LIMIT: (bid, at_or_above),
            mt5.ORDER_TYPE_SELL_STOP: (bid, at_or_below),
        }[o.type]
        first(o.ticket, o.time_setup_msc, _PENDING, o.price_open, series, reached)
    return min(found, default=None)
