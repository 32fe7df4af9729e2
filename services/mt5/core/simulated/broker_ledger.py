"""The paper account's bookings: units of work, history records, positions opened and closed, events.

A `Tx` is a copy of the broker state plus the history rows and events one request or one tick batch
produces; the broker persists it in one transaction, or drops it, so nothing is ever half-booked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN
from typing import Any

from services.mt5.core.simulated.broker_accounting import (
    PaperAccountSettings,
    Pricing,
    account_snapshot,
    is_buy,
    money,
)
from services.mt5.core.simulated.broker_checks import R, TradeRefused
from services.mt5.core.simulated.broker_store import BrokerState
from shared.event_catalog import (
    ACCOUNT_UPDATED,
    ORDER_FILLED,
    POSITION_CLOSED,
    POSITION_MODIFIED,
    POSITION_OPENED,
)
from shared.market import mt5_constants as mt5
from shared.market.records import (
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
    trade_request_from_dict,
)
from shared.market.symbols import SymbolSpec, round_to_step


@dataclass(frozen=True)
class BrokerEvent:
    """A notification the service publishes: `order.*`, `position.*` or `account.*`."""

    type: str
    data: dict[str, Any]


@dataclass
class Tx:
    """One unit of work: a copy of the state, and the history rows and events it produced."""

    state: BrokerState
    now_ms: int
    finished_orders: list[TradeOrder] = field(default_factory=list)
    deals: list[TradeDeal] = field(default_factory=list)
    events: list[BrokerEvent] = field(default_factory=list)
    ticks: dict[str, Tick] = field(default_factory=dict)  # the tick being processed overrides the quote

    def fork(self) -> Tx:
        """A trial copy, adopted with `adopt` when it succeeds."""
        return Tx(
            self.state.copy(),
            self.now_ms,
            list(self.finished_orders),
            list(self.deals),
            list(self.events),
            dict(self.ticks),
        )

    def adopt(self, trial: Tx) -> None:
        self.state, self.finished_orders, self.deals, self.events = (
            trial.state,
            trial.finished_orders,
            trial.deals,
            trial.events,
        )

    def order_ticket(self) -> int:
        ticket, self.state.next_order = self.state.next_order, self.state.next_order + 1
        return ticket

    def deal_ticket(self) -> int:
        ticket, self.state.next_deal = self.state.next_deal, self.state.next_deal + 1
        return ticket

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        self.events.append(BrokerEvent(event_type, data))


class Ledger:
    """Books fills on a Tx: history orders, deals, positions, balance and the matching events."""

    def __init__(
        self,
        symbols: Mapping[str, SymbolSpec],
        settings: PaperAccountSettings,
        quote: Callable[[str], Tick | None],
    ) -> None:
        self.symbols = symbols
        self.settings = settings
        self.quote = quote

    def pricing(self, tx: Tx) -> Pricing:
        """Pricing against the tick being processed (when any) and the current quotes."""
        return Pricing(self.symbols, self.settings, lambda s: self.quote_of(tx, s))

    def quote_of(self, tx: Tx, symbol: str) -> Tick | None:
        """The tick being processed for `symbol` when there is one, else its current quote."""
        return tx.ticks.get(symbol) or self.quote(symbol)

    def open_position(self, tx: Tx, order: TradeOrder, price: float) -> TradeDeal:
        """Open a position from a filled order (the position id is the order ticket, as in MT5)."""
        ms = tx.now_ms
        position_type = position_type_of(order.type)
        position = TradePosition(
            ticket=order.ticket,
            time=ms // 1000,
            time_msc=ms,
            time_update=ms // 1000,
            time_update_msc=ms,
            type=position_type,
            magic=order.magic,
            identifier=order.ticket,
            reason=order.reason,
            volume=order.volume_initial,
            price_open=price,
            sl=order.sl,
            tp=order.tp,
            price_current=price,
            swap=0.0,
            profit=0.0,
            symbol=order.symbol,
            comment=order.comment,
            external_id="",
        )
        commission = self.pricing(tx).commission(order.volume_initial)
        deal = self._deal_record(
            tx,
            order.ticket,
            position,
            mt5.DEAL_ENTRY_IN,
            order.reason,
            order.magic,
            order.volume_initial,
            price,
            commission,
            0.0,
            order.comment,
        )
        tx.state.positions[position.ticket] = position
        tx.state.balance = money(tx.state.balance + commission)
        tx.emit(POSITION_OPENED, position._asdict())
        return deal

    def close_volume(
        self,
        tx: Tx,
        position: TradePosition,
        volume: float,
        price: float,
        order_ticket: int,
        reason: int,
        *,
        magic: int,
        comment: str,
        entry: int = mt5.DEAL_ENTRY_OUT,
    ) -> TradeDeal:
        """Close `volume` lots of a position at `price`, booking profit and commission to the balance."""
        spec = self.symbols[position.symbol]
        pricing = self.pricing(tx)
        profit = pricing.profit(spec, position.type, volume, position.price_open, price)
        if profit is None:
            raise TradeRefused(R.PRICE_OFF, f"no quote to convert {spec.currency_profit} profit")
        commission = pricing.commission(volume)
        deal = self._deal_record(
            tx, order_ticket, position, entry, reason, magic, volume, price, commission, profit, comment
        )
        tx.state.balance = money(tx.state.balance + profit + commission)
        remaining = round_to_step(position.volume - volume, spec.volume_step, ROUND_HALF_EVEN)
        if remaining > 0:
            ms = tx.now_ms
            rest = position._replace(volume=remaining, time_update=ms // 1000, time_update_msc=ms)
            tx.state.positions[position.ticket] = rest
            tx.emit(POSITION_MODIFIED, {**rest._asdict(), "deal": deal.ticket})
        else:
            del tx.state.positions[position.ticket]
            tx.emit(
                POSITION_CLOSED,
                {**position._asdict(), "deal": deal.ticket, "price_close": price, "profit": profit},
            )
        tx.emit(ACCOUNT_UPDATED, {"balance": tx.state.balance})
        return deal

    def close_by_server(
        self, tx: Tx, position: TradePosition, price: float, reason: int, comment: str
    ) -> TradeDeal:
        """Close a whole position on the server's initiative (SL, TP, stop-out): a filled closing order in
        the history, then its deal, both with `reason` and `comment` as MT5 records them."""
        spec = self.symbols[position.symbol]
        closing_type = mt5.ORDER_TYPE_SELL if position.type == mt5.POSITION_TYPE_BUY else mt5.ORDER_TYPE_BUY
        req = trade_request_from_dict(
            {
                "action": mt5.TRADE_ACTION_DEAL,
                "symbol": position.symbol,
                "volume": position.volume,
                "type": closing_type,
                "position": position.ticket,
                "magic": position.magic,
                "comment": comment,
            }
        )
        order = self.filled_order(
            tx, req, spec, closing_type, price, position_id=position.ticket, reason=reason
        )
        return self.close_volume(
            tx, position, position.volume, price, order.ticket, reason, magic=position.magic, comment=comment
        )

    def finish_order(
        self, tx: Tx, order: TradeOrder, state: int, event_type: str, **extra: Any
    ) -> TradeOrder:
        """Move an open pending order to history with its final state."""
        del tx.state.orders[order.ticket]
        done = order._replace(state=state, time_done=tx.now_ms // 1000, time_done_msc=tx.now_ms, **extra)
        tx.finished_orders.append(done)
        tx.emit(event_type, done._asdict())
        return done

    # ---- checks and helpers ---------------------------------------------------------------------------

    def filled_order(
        self,
        tx: Tx,
        req: TradeRequest,
        spec: SymbolSpec,
        order_type: int,
        price: float,
        *,
        sl: float = 0.0,
        tp: float = 0.0,
        position_id: int = 0,
        position_by_id: int = 0,
        volume: float | None = None,
        reason: int = mt5.DEAL_REASON_EXPERT,
    ) -> TradeOrder:
        """Record a market order filled at once (opening, closing, SL/TP or close-by) in the history."""
        ticket = tx.order_ticket()
        ms = tx.now_ms
        order = TradeOrder(
            ticket=ticket,
            time_setup=ms // 1000,
            time_setup_msc=ms,
            time_done=ms // 1000,
            time_done_msc=ms,
            time_expiration=0,
            type=order_type,
            type_time=mt5.ORDER_TIME_GTC,
            type_filling=req.type_filling,
            state=mt5.ORDER_STATE_FILLED,
            magic=req.magic,
            position_id=position_id or ticket,
            position_by_id=position_by_id,
            reason=reason,
            volume_initial=req.volume if volume is None else volume,
            volume_current=0.0,
            price_open=price,
            sl=sl,
            tp=tp,
            price_current=price,
            price_stoplimit=0.0,
            symbol=spec.name,
            comment=req.comment,
            external_id="",
        )
        tx.finished_orders.append(order)
        tx.emit(ORDER_FILLED, order._asdict())
        return order

    def _deal_record(
        self,
        tx: Tx,
        order_ticket: int,
        position: TradePosition,
        entry: int,
        reason: int,
        magic: int,
        volume: float,
        price: float,
        commission: float,
        profit: float,
        comment: str,
    ) -> TradeDeal:
        opening = entry == mt5.DEAL_ENTRY_IN
        long = position.type == mt5.POSITION_TYPE_BUY
        deal = TradeDeal(
            ticket=tx.deal_ticket(),
            order=order_ticket,
            time=tx.now_ms // 1000,
            time_msc=tx.now_ms,
            type=mt5.DEAL_TYPE_BUY if long == opening else mt5.DEAL_TYPE_SELL,
            entry=entry,
            magic=magic,
            position_id=position.ticket,
            reason=reason,
            volume=volume,
            price=price,
            commission=commission,
            swap=0.0,
            profit=profit,
            fee=0.0,
            symbol=position.symbol,
            comment=comment,
            external_id="",
        )
        tx.deals.append(deal)
        return deal

    def require_free_margin(self, tx: Tx) -> None:
        """Refuse with NO_MONEY when the state after the trade has negative free margin."""
        account = account_snapshot(
            self.settings, self.pricing(tx), tx.state.balance, tx.state.positions.values()
        )
        if account.margin_free < 0:
            raise TradeRefused(R.NO_MONEY, f"free margin would be {account.margin_free}")


def position_type_of(order_type: int) -> int:
    """POSITION_TYPE_BUY for buying order types, else POSITION_TYPE_SELL."""
    return mt5.POSITION_TYPE_BUY if is_buy(order_type) else mt5.POSITION_TYPE_SELL
