"""Trade requests on the paper hedging account, with MT5's checks, retcodes and history records.

Every handler works on a `Tx` (a copy of the broker state plus the history rows and events it produces)
and raises `TradeRefused` on the first failed check; the broker then drops the copy, so a refused request
changes nothing (the checks themselves are in broker_checks). Choices where MT5 leaves it to the server:

- Pending orders reserve no margin; they are refused at placement when their margin would not fit now, and
  rejected at the trigger when it does not fit then.
- Orders sent through the API carry reason EXPERT, as MT5 records them; stop-limit orders are not offered.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from services.mt5.core.simulated.broker_accounting import (
    PaperAccountSettings,
    account_snapshot,
    close_price,
    is_buy,
)
from services.mt5.core.simulated.broker_checks import (
    R,
    TradeRefused,
    check_deviation,
    check_pending_price,
    check_price,
    check_stops,
    check_trade_mode,
    check_volume,
    describe,
    expiration_of,
    parse_request,
)
from services.mt5.core.simulated.broker_ledger import Ledger, Tx, position_type_of
from shared.event_catalog import ORDER_CANCELLED, ORDER_MODIFIED, ORDER_PLACED, POSITION_MODIFIED
from shared.market import mt5_constants as mt5
from shared.market.records import (
    OrderSendResult,
    Tick,
    TradeOrder,
    TradePosition,
    TradeRequest,
    trade_request_from_dict,
)
from shared.market.symbols import SymbolSpec

SUCCESS_RETCODES = frozenset({R.DONE, R.PLACED})
_PENDING_TYPES = (
    mt5.ORDER_TYPE_BUY_LIMIT,
    mt5.ORDER_TYPE_SELL_LIMIT,
    mt5.ORDER_TYPE_BUY_STOP,
    mt5.ORDER_TYPE_SELL_STOP,
)


class OrderExecutor:
    """Runs trade requests on a Tx; holds no state of its own besides the request counter."""

    def __init__(
        self,
        symbols: Mapping[str, SymbolSpec],
        settings: PaperAccountSettings,
        quote: Callable[[str], Tick | None],
        is_open: Callable[[str, int], bool],
    ) -> None:
        self.symbols = symbols
        self.settings = settings
        self.ledger = Ledger(symbols, settings, quote)
        self._quote = quote
        self._is_open = is_open
        self._request_ids = itertools.count(1)

    def send(self, tx: Tx, request: Mapping[str, Any]) -> OrderSendResult:
        """Execute one request on `tx`; a refusal comes back as a result with MT5's retcode."""
        req = trade_request_from_dict(dict(request))
        try:
            req = parse_request(request)
            handler = {
                mt5.TRADE_ACTION_DEAL: self._deal,
                mt5.TRADE_ACTION_PENDING: self._pending,
                mt5.TRADE_ACTION_SLTP: self._sltp,
                mt5.TRADE_ACTION_MODIFY: self._modify,
                mt5.TRADE_ACTION_REMOVE: self._remove,
                mt5.TRADE_ACTION_CLOSE_BY: self._close_by,
            }.get(req.action)
            if handler is None:
                raise TradeRefused(R.INVALID, f"unknown action {req.action}")
            return handler(tx, req)
        except TradeRefused as refused:
            tick = tx.ticks.get(req.symbol) or (
                self._quote(req.symbol) if req.symbol in self.symbols else None
            )
            return self.result(refused.retcode, req, tick=tick, detail=refused.detail)

    def result(
        self,
        retcode: int,
        req: TradeRequest,
        *,
        tick: Tick | None = None,
        deal: int = 0,
        order: int = 0,
        volume: float = 0.0,
        price: float = 0.0,
        detail: str = "",
    ) -> OrderSendResult:
        """MT5's OrderSendResult; the comment is MT5's description, then the detail that names the field."""
        return OrderSendResult(
            retcode=int(retcode),
            deal=deal,
            order=order,
            volume=volume,
            price=price,
            bid=tick.bid if tick else 0.0,
            ask=tick.ask if tick else 0.0,
            comment=describe(retcode, detail),
            request_id=next(self._request_ids),
            retcode_external=0,
            request=req,
        )

    # ---- request handlers -------------------------------------------------------------------------------

    def _deal(self, tx: Tx, req: TradeRequest) -> OrderSendResult:
        if req.position:
            return self._close(tx, req)
        if req.type not in (mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL):
            raise TradeRefused(R.INVALID, f"type {req.type} is not a market order type")
        spec = self._spec(req.symbol)
        buying = req.type == mt5.ORDER_TYPE_BUY
        self._check_opening(tx, spec, buying, req.volume)
        if req.type_filling not in (
            mt5.ORDER_FILLING_FOK,
            mt5.ORDER_FILLING_IOC,
            mt5.ORDER_FILLING_RETURN,
        ) or (
            req.type_filling in (mt5.ORDER_FILLING_FOK, mt5.ORDER_FILLING_IOC)
            and not spec.filling_mode & (1 << req.type_filling)
        ):
            raise TradeRefused(R.INVALID_FILL, f"type_filling {req.type_filling} not allowed on {spec.name}")
        tick = self._tick(tx, spec.name)
        price = tick.ask if buying else tick.bid
        check_deviation(spec, req, price)
        sl, tp = check_stops(spec, buying, close_price(position_type_of(req.type), tick), req.sl, req.tp)
        if self.ledger.pricing(tx).margin(spec, req.volume, price) is None:
            raise TradeRefused(R.PRICE_OFF, f"no quote to convert {spec.currency_margin} margin")
        order = self.ledger.filled_order(tx, req, spec, req.type, price, sl=sl, tp=tp)
        deal = self.ledger.open_position(tx, order, price)
        self.ledger.require_free_margin(tx)
        return self.result(
            R.DONE, req, tick=tick, deal=deal.ticket, order=order.ticket, volume=req.volume, price=price
        )

    def _close(self, tx: Tx, req: TradeRequest) -> OrderSendResult:
        position = self._position(tx, req.position)
        spec = self.symbols[position.symbol]
        if req.symbol and req.symbol != position.symbol:
            raise TradeRefused(
                R.INVALID, f"position {position.ticket} is on {position.symbol}, not {req.symbol}"
            )
        if req.type != _opposite(position.type):
            raise TradeRefused(R.INVALID, "a close must be the opposite type of the position")
        check_trade_mode(spec, closing=True)
        self._require_open(tx, spec.name)
        check_volume(spec, req.volume)
        if req.volume > position.volume:
            raise TradeRefused(
                R.INVALID_CLOSE_VOLUME, f"volume {req.volume} > position volume {position.volume}"
            )
        tick = self._tick(tx, spec.name)
        price = close_price(position.type, tick)
        check_deviation(spec, req, price)
        order = self.ledger.filled_order(tx, req, spec, req.type, price, position_id=position.ticket)
        deal = self.ledger.close_volume(
            tx,
            position,
            req.volume,
            price,
            order.ticket,
            mt5.DEAL_REASON_EXPERT,
            magic=req.magic,
            comment=req.comment,
        )
        return self.result(
            R.DONE, req, tick=tick, deal=deal.ticket, order=order.ticket, volume=req.volume, price=price
        )

    def _pending(self, tx: Tx, req: TradeRequest) -> OrderSendResult:
        if req.type not in _PENDING_TYPES:
            raise TradeRefused(R.INVALID, f"type {req.type} is not a supported pending order type")
        spec = self._spec(req.symbol)
        buying = is_buy(req.type)
        self._check_opening(tx, spec, buying, req.volume)
        check_price(spec, "price", req.price)
        if req.price == 0:
            raise TradeRefused(R.INVALID_PRICE, "field 'price' is required for a pending order")
        price = req.price
        tick = self._tick(tx, spec.name)
        check_pending_price(spec, req.type, price, tick)
        sl, tp = check_stops(spec, buying, price, req.sl, req.tp)
        expiration = expiration_of(tx.now_ms, req)
        pricing = self.ledger.pricing(tx)
        margin = pricing.margin(spec, req.volume, price)
        if margin is None:
            raise TradeRefused(R.PRICE_OFF, f"no quote to convert {spec.currency_margin} margin")
        free = account_snapshot(
            self.settings, pricing, tx.state.balance, tx.state.positions.values()
        ).margin_free
        if margin > free:
            raise TradeRefused(R.NO_MONEY, f"margin {margin} exceeds free margin {free}")
        ms = tx.now_ms
        order = TradeOrder(
            ticket=tx.order_ticket(),
            time_setup=ms // 1000,
            time_setup_msc=ms,
            time_done=0,
            time_done_msc=0,
            time_expiration=expiration,
            type=req.type,
            type_time=req.type_time,
            type_filling=req.type_filling,
            state=mt5.ORDER_STATE_PLACED,
            magic=req.magic,
            position_id=0,
            position_by_id=0,
            reason=mt5.DEAL_REASON_EXPERT,
            volume_initial=req.volume,
            volume_current=req.volume,
            price_open=price,
            sl=sl,
            tp=tp,
            price_current=tick.ask if buying else tick.bid,
            price_stoplimit=0.0,
            symbol=spec.name,
            comment=req.comment,
            external_id="",
        )
        tx.state.orders[order.ticket] = order
        tx.emit(ORDER_PLACED, order._asdict())
        return self.result(R.PLACED, req, tick=tick, order=order.ticket, volume=req.volume, price=price)

    def _sltp(self, tx: Tx, req: TradeRequest) -> OrderSendResult:
        position = self._position(tx, req.position)
        spec = self.symbols[position.symbol]
        self._require_open(tx, spec.name)
        tick = self._tick(tx, spec.name)
        buying = position.type == mt5.POSITION_TYPE_BUY
        sl, tp = check_stops(spec, buying, close_price(position.type, tick), req.sl, req.tp)
        if (sl, tp) == (position.sl, position.tp):
            raise TradeRefused(R.NO_CHANGES)
        modified = position._replace(sl=sl, tp=tp, time_update=tx.now_ms // 1000, time_update_msc=tx.now_ms)
        tx.state.positions[position.ticket] = modified
        tx.emit(POSITION_MODIFIED, modified._asdict())
        return self.result(R.DONE, req, tick=tick)

    def _modify(self, tx: Tx, req: TradeRequest) -> OrderSendResult:
        order = self._open_order(tx, req.order)
        spec = self.symbols[order.symbol]
        self._require_open(tx, spec.name)
        check_price(spec, "price", req.price)
        price = req.price or order.price_open
        tick = self._tick(tx, spec.name)
        check_pending_price(spec, order.type, price, tick)
        sl, tp = check_stops(spec, is_buy(order.type), price, req.sl, req.tp)
        modified = order._replace(
            price_open=price,
            sl=sl,
            tp=tp,
            type_time=req.type_time,
            time_expiration=expiration_of(tx.now_ms, req),
        )
        if modified == order:
            raise TradeRefused(R.NO_CHANGES)
        tx.state.orders[order.ticket] = modified
        tx.emit(ORDER_MODIFIED, modified._asdict())
        return self.result(
            R.DONE, req, tick=tick, order=order.ticket, volume=order.volume_current, price=price
        )

    def _remove(self, tx: Tx, req: TradeRequest) -> OrderSendResult:
        order = self._open_order(tx, req.order)
        self._require_open(tx, order.symbol)
        self.ledger.finish_order(tx, order, mt5.ORDER_STATE_CANCELED, ORDER_CANCELLED)
        return self.result(R.DONE, req, tick=self._quote(order.symbol), order=order.ticket)

    def _close_by(self, tx: Tx, req: TradeRequest) -> OrderSendResult:
        position = self._position(tx, req.position)
        opposite = self._position(tx, req.position_by)
        if position.symbol != opposite.symbol or position.type == opposite.type:
            raise TradeRefused(R.INVALID, "close-by needs two opposite positions on the same symbol")
        spec = self.symbols[position.symbol]
        check_trade_mode(spec, closing=True)
        self._require_open(tx, spec.name)
        volume = min(position.volume, opposite.volume)
        # MT5 closes both at the open price of `position_by`: the pair's combined profit is realised on the
        # first deal and no spread is paid.
        price = opposite.price_open
        order = self.ledger.filled_order(
            tx,
            req,
            spec,
            mt5.ORDER_TYPE_CLOSE_BY,
            price,
            position_id=position.ticket,
            position_by_id=opposite.ticket,
            volume=volume,
        )
        deal = self.ledger.close_volume(
            tx,
            position,
            volume,
            price,
            order.ticket,
            mt5.DEAL_REASON_EXPERT,
            magic=req.magic,
            comment=req.comment,
            entry=mt5.DEAL_ENTRY_OUT_BY,
        )
        self.ledger.close_volume(
            tx,
            opposite,
            volume,
            price,
            order.ticket,
            mt5.DEAL_REASON_EXPERT,
            magic=req.magic,
            comment=req.comment,
            entry=mt5.DEAL_ENTRY_OUT_BY,
        )
        return self.result(
            R.DONE,
            req,
            tick=self._quote(spec.name),
            deal=deal.ticket,
            order=order.ticket,
            volume=volume,
            price=price,
        )

    def _check_opening(self, tx: Tx, spec: SymbolSpec, buying: bool, volume: float) -> None:
        check_trade_mode(spec, closing=False, buying=buying)
        self._require_open(tx, spec.name)
        check_volume(spec, volume)

    def _require_open(self, tx: Tx, symbol: str) -> None:
        if not self._is_open(symbol, tx.now_ms):
            raise TradeRefused(R.MARKET_CLOSED, f"{symbol} market is closed")

    def _spec(self, symbol: str) -> SymbolSpec:
        if not symbol:
            raise TradeRefused(R.INVALID, "field 'symbol' is required")
        spec = self.symbols.get(symbol)
        if spec is None:
            raise TradeRefused(R.INVALID, f"unknown symbol {symbol}")
        return spec

    def _tick(self, tx: Tx, symbol: str) -> Tick:
        tick = tx.ticks.get(symbol) or self._quote(symbol)
        if tick is None:
            raise TradeRefused(R.PRICE_OFF, f"no quote for {symbol}")
        return tick

    def _position(self, tx: Tx, ticket: int) -> TradePosition:
        position = tx.state.positions.get(ticket)
        if position is None:
            raise TradeRefused(R.POSITION_CLOSED, f"position {ticket} is not open")
        return position

    def _open_order(self, tx: Tx, ticket: int) -> TradeOrder:
        order = tx.state.orders.get(ticket)
        if order is None:
            raise TradeRefused(R.INVALID, f"field 'order': no open pending order {ticket}")
        return order


def _opposite(position_type: int) -> int:
    return mt5.ORDER_TYPE_SELL if position_type == mt5.POSITION_TYPE_BUY else mt5.ORDER_TYPE_BUY
