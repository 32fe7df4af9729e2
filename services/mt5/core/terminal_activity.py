"""What happened in a real terminal between two looks, as the events the paper broker publishes.

A real terminal tells nothing by itself: positions closed by SL/TP, a stop-out or by hand, and orders sent by
other programs or the terminal's user, are found by comparing positions and pending orders with the last
look, and by reading the deals that arrived since (`history_deals_get` over a time range). Each look yields
`order.placed|modified|cancelled|filled` and `position.opened|modified|closed` with the paper broker's
data (the record's MT5 fields; a close adds `deal`, `price_close`, `profit`).

The newest deal time seen is kept in a small file, so a restarted service reads the deals it missed from
the terminal's history and publishes their fills and closes with `backfill: true` (history, never traded
on: DESIGN §11). Runs in the gateway's worker thread, like every terminal call; time is injected.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.mt5.core.simulated.broker import BrokerEvent
from services.mt5.core.terminal import Terminal
from shared.event_catalog import (
    ORDER_CANCELLED,
    ORDER_FILLED,
    ORDER_MODIFIED,
    ORDER_PLACED,
    POSITION_CLOSED,
    POSITION_MODIFIED,
    POSITION_OPENED,
)
from shared.market import mt5_constants as mt5
from shared.market.records import TradeDeal, TradeOrder, TradePosition

log = logging.getLogger(__name__)

# Deals can reach the history stamped a little before the newest one already seen (the server books
# them in its own order): every look re-reads this much before the mark, and skips the tickets it has seen.
DEAL_OVERLAP_MS = 3_600_000
# The history's end is asked this far past now: the server's clock may run ahead of ours.
_FUTURE_MS = 86_400_000
_TRADES = (mt5.DEAL_TYPE_BUY, mt5.DEAL_TYPE_SELL)
_CLOSING = (mt5.DEAL_ENTRY_OUT, mt5.DEAL_ENTRY_OUT_BY)


@dataclass
class _Look:
    positions: dict[int, TradePosition]
    orders: dict[int, TradeOrder]
    deals: list[TradeDeal]


class TerminalActivity:
    """Compares each look at the terminal with the last one; `sync()` returns the events in between."""

    def __init__(self, terminal: Terminal, *, mark_path: Path, now_ms: Callable[[], int]) -> None:
        self._terminal = terminal
        self._mark_path = mark_path
        self._now_ms = now_ms
        self._positions: dict[int, TradePosition] | None = None  # None: no look yet
        self._orders: dict[int, TradeOrder] = {}
        self._seen: dict[int, int] = {}  # deal ticket -> time_msc, within the overlap
        self._mark_ms = self._read_mark()

    def sync(self) -> list[BrokerEvent]:
        """One look; nothing while the terminal cannot answer (the next look catches up)."""
        start_ms = (self._mark_ms if self._mark_ms is not None else self._now_ms()) - DEAL_OVERLAP_MS
        look = self._look(start_ms)
        if look is None:
            return []
        first = self._positions is None
        fresh = [d for d in look.deals if d.ticket not in self._seen]
        if first and self._mark_ms is None:
            events: list[BrokerEvent] = []  # the first start: what is open now is the baseline
        elif first:
            # Restarted: the deals after the mark happened while the service was down (those up to it
            # were published before; the tickets seen then are not remembered across a restart).
            missed = [d for d in fresh if d.time_msc > (self._mark_ms or 0)]
            events = self._deal_events(missed, {}, look.positions, backfill=True)
        else:
            events = [
                *self._order_events(look.orders, fresh),
                *self._deal_events(fresh, self._positions or {}, look.positions, backfill=False),
                *self._position_events(look.positions, fresh),
            ]
        self._positions, self._orders = look.positions, look.orders
        self._remember(look.deals)
        return events

    # ----- reading -----------------------------------------------------------------------------------------

    def _look(self, start_ms: int) -> _Look | None:
        positions = self._terminal.positions_get()
        orders = self._terminal.orders_get()
        deals = self._terminal.history_deals_get(start_ms / 1000, (self._now_ms() + _FUTURE_MS) / 1000)
        if positions is None or orders is None or deals is None:
            return None
        return _Look(
            {p.ticket: p for p in positions},
            {o.ticket: o for o in orders},
            sorted(deals, key=lambda d: (d.time_msc, d.ticket)),
        )

    # ----- the differences ---------------------------------------------------------------------------------

    def _order_events(self, orders: dict[int, TradeOrder], fresh: list[TradeDeal]) -> list[BrokerEvent]:
        events = []
        filled = {d.order for d in fresh}
        for ticket, order in orders.items():
            before = self._orders.get(ticket)
            if before is None:
                events.append(BrokerEvent(ORDER_PLACED, order._asdict()))
            elif _order_terms(before) != _order_terms(order):
                events.append(BrokerEvent(ORDER_MODIFIED, order._asdict()))
        for ticket, order in self._orders.items():
            # A pending order gone without a deal was cancelled, expired or rejected; one that filled
            # has its deal among the fresh ones and is published as filled below.
            if ticket not in orders and ticket not in filled:
                events.append(BrokerEvent(ORDER_CANCELLED, order._asdict()))
        return events

    def _deal_events(
        self,
        fresh: Iterable[TradeDeal],
        known: dict[int, TradePosition],
        open_now: dict[int, TradePosition],
        *,
        backfill: bool,
    ) -> list[BrokerEvent]:
        """`order.filled` per trade deal, and `position.closed` per position a deal closed."""
        flag = {"backfill": True} if backfill else {}
        events = []
        for deal in fresh:
            if deal.type not in _TRADES:
                continue  # balance, credit, commission ... are not orders
            events.append(BrokerEvent(ORDER_FILLED, {**self._filled_order(deal), **flag}))
            closed = deal.position_id
            if deal.entry in _CLOSING and closed not in open_now:
                before = known.get(closed)
                record = before._asdict() if before is not None else _position_of(deal)
                events.append(BrokerEvent(POSITION_CLOSED, {**record, **_close_of(deal), **flag}))
        return events

    def _filled_order(self, deal: TradeDeal) -> dict[str, Any]:
        """The filled order's record from the history, as the paper broker publishes it, with its deal; the
        deal's own fields (its `ticket` the order's) when the history cannot say."""
        found = self._terminal.history_orders_get(ticket=deal.order)
        if found:
            return {**found[0]._asdict(), "deal": deal.ticket}
        return {**deal._asdict(), "ticket": deal.order, "deal": deal.ticket}

    def _position_events(
        self, positions: dict[int, TradePosition], fresh: list[TradeDeal]
    ) -> list[BrokerEvent]:
        """Opened and modified positions; a known one gone without a closing deal in sight is closed too
        (its deal may reach the history later, or be booked under the other position of a close-by)."""
        events = []
        known = self._positions or {}
        closed_by_deal = {d.position_id for d in fresh if d.entry in _CLOSING}
        for ticket, gone in known.items():
            if ticket not in positions and ticket not in closed_by_deal:
                events.append(BrokerEvent(POSITION_CLOSED, gone._asdict()))
        for ticket, position in positions.items():
            before = known.get(ticket)
            if before is None:
                events.append(BrokerEvent(POSITION_OPENED, position._asdict()))
            elif (before.volume, before.sl, before.tp) != (position.volume, position.sl, position.tp):
                events.append(BrokerEvent(POSITION_MODIFIED, position._asdict()))
        return events

    # ----- the mark ----------------------------------------------------------------------------------------

    def _remember(self, deals: list[TradeDeal]) -> None:
        for deal in deals:
            self._seen[deal.ticket] = deal.time_msc
        if not deals:
            if self._mark_ms is None:
                self._write_mark(self._now_ms())
            return
        newest = deals[-1].time_msc
        if self._mark_ms is None or newest > self._mark_ms:
            self._write_mark(newest)
        assert self._mark_ms is not None
        floor = self._mark_ms - DEAL_OVERLAP_MS
        self._seen = {t: ms for t, ms in self._seen.items() if ms >= floor}

    def _read_mark(self) -> int | None:
        try:
            return int(json.loads(self._mark_path.read_text())["deals_until_ms"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("unreadable %s: deals before this start are not published", self._mark_path)
            return None

    def _write_mark(self, ms: int) -> None:
        self._mark_ms = ms
        try:
            tmp = self._mark_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"deals_until_ms": ms}))
            tmp.replace(self._mark_path)  # atomic: a crash leaves the old mark or the new one
        except OSError:
            log.warning("cannot write %s: a restart may publish some deals again", self._mark_path)


def _order_terms(order: TradeOrder) -> tuple[Any, ...]:
    return (order.price_open, order.sl, order.tp, order.volume_current, order.time_expiration)


def _close_of(deal: TradeDeal) -> dict[str, Any]:
    """What a close adds to the position's record, as the paper broker publishes it (+ the deal's reason:
    SL, TP, stop-out, by hand)."""
    return {
        "deal": deal.ticket,
        "price_close": deal.price,
        "profit": deal.profit,
        "close_reason": deal.reason,
    }


def _position_of(deal: TradeDeal) -> dict[str, Any]:
    """A position never seen open (opened and closed between two looks, or while the service was down),
    from its closing deal."""
    return {
        "ticket": deal.position_id,
        "identifier": deal.position_id,
        "symbol": deal.symbol,
        "volume": deal.volume,
        "magic": deal.magic,
        # The closing deal goes the other way: a sell closes a buy position.
        "type": mt5.POSITION_TYPE_BUY if deal.type == mt5.DEAL_TYPE_SELL else mt5.POSITION_TYPE_SELL,
        "time_update_msc": deal.time_msc,
    }
