"""MT5 request checks for the paper broker: field types, volume, trade mode, deviation, stops, prices.

Choices where MT5 depends on the server's configuration:

- Execution is "instant": a request carrying a `price` is refused with 10004 REQUOTE when the market price
  is more than `deviation` points away from it; without a price it fills at the ask (buy) or bid (sell).
- Prices, SL and TP are never moved: one off the symbol's grid (not a whole number of ticks) is refused,
  10015 for a price and 10016 for a stop, as MT5 refuses an unnormalised price.
- SL/TP and pending prices must be at least max(stops_level, 1) points from the reference price (MT5 allows
  equality when stops_level is 0, which would trigger at once on the next tick). The reference of a
  position's stops is its closing price (bid for a long, ask for a short), of a pending order's its price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from shared.market import mt5_constants as mt5
from shared.market.records import Tick, TradeRequest, trade_request_from_dict
from shared.market.symbols import SymbolSpec

R = mt5.TradeRetcode
_INT_FIELDS = (
    "action",
    "magic",
    "order",
    "deviation",
    "type",
    "type_filling",
    "type_time",
    "expiration",
    "position",
    "position_by",
)
_FLOAT_FIELDS = ("volume", "price", "stoplimit", "sl", "tp")
_DESCRIPTIONS = {
    R.REQUOTE: "Requote",
    R.PLACED: "Order placed",
    R.DONE: "Request completed",
    R.INVALID: "Invalid request",
    R.INVALID_VOLUME: "Invalid volume in the request",
    R.INVALID_PRICE: "Invalid price in the request",
    R.INVALID_STOPS: "Invalid stops in the request",
    R.TRADE_DISABLED: "Trade is disabled",
    R.MARKET_CLOSED: "Market is closed",
    R.NO_MONEY: "There is not enough money to complete the request",
    R.PRICE_OFF: "There are no quotes to process the request",
    R.INVALID_EXPIRATION: "Invalid order expiration date in the request",
    R.NO_CHANGES: "No changes in request",
    R.INVALID_FILL: "Invalid order filling type",
    R.POSITION_CLOSED: "Position with the specified identifier has already been closed",
    R.INVALID_CLOSE_VOLUME: "A close volume exceeds the current position volume",
    R.LONG_ONLY: "Only long positions are allowed",
    R.SHORT_ONLY: "Only short positions are allowed",
    R.CLOSE_ONLY: "Only position closing operations are allowed",
}


class TradeRefused(Exception):
    """A request failed an MT5 check; `retcode` is the TRADE_RETCODE_* to return."""

    def __init__(self, retcode: int, detail: str = "") -> None:
        super().__init__(detail)
        self.retcode = retcode
        self.detail = detail


def describe(retcode: int, detail: str = "") -> str:
    """MT5's description of a retcode, then the detail that names the field."""
    text = _DESCRIPTIONS.get(R(retcode), "Request rejected")
    return f"{text}: {detail}" if detail else text


def parse_request(request: Mapping[str, Any]) -> TradeRequest:
    """The request as MT5's TradeRequest; raises TradeRefused(INVALID) naming a mistyped field."""
    for name in _INT_FIELDS:
        value = request.get(name, 0)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TradeRefused(R.INVALID, f"field '{name}' must be an integer")
    for name in _FLOAT_FIELDS:
        value = request.get(name, 0.0)
        if not isinstance(value, int | float) or isinstance(value, bool) or value != value:
            raise TradeRefused(R.INVALID, f"field '{name}' must be a number")
    for name in ("symbol", "comment"):
        if not isinstance(request.get(name, ""), str):
            raise TradeRefused(R.INVALID, f"field '{name}' must be a string")
    return trade_request_from_dict({**request, **{f: float(request.get(f, 0.0)) for f in _FLOAT_FIELDS}})


def check_trade_mode(spec: SymbolSpec, *, closing: bool, buying: bool = True) -> None:
    mode = spec.trade_mode
    if mode == mt5.SYMBOL_TRADE_MODE_DISABLED:
        raise TradeRefused(R.TRADE_DISABLED, f"trading is disabled on {spec.name}")
    if closing:
        return
    if mode == mt5.SYMBOL_TRADE_MODE_CLOSEONLY:
        raise TradeRefused(R.CLOSE_ONLY, f"{spec.name} is close-only")
    if mode == mt5.SYMBOL_TRADE_MODE_LONGONLY and not buying:
        raise TradeRefused(R.LONG_ONLY, f"{spec.name} is long-only")
    if mode == mt5.SYMBOL_TRADE_MODE_SHORTONLY and buying:
        raise TradeRefused(R.SHORT_ONLY, f"{spec.name} is short-only")


def check_volume(spec: SymbolSpec, volume: float) -> None:
    error = spec.volume_error(volume)
    if error:
        raise TradeRefused(R.INVALID_VOLUME, f"field 'volume': {error}")


def check_price(spec: SymbolSpec, name: str, value: float) -> None:
    """Refuse a negative price, SL or TP, or one off the symbol's grid (10015 for prices, 10016 for stops)."""
    retcode = R.INVALID_STOPS if name in ("sl", "tp") else R.INVALID_PRICE
    if value < 0:
        raise TradeRefused(retcode, f"field '{name}' must not be negative")
    error = spec.price_error(value)
    if error:
        raise TradeRefused(retcode, f"field '{name}': {error}")


def check_deviation(spec: SymbolSpec, req: TradeRequest, price: float) -> None:
    check_price(spec, "price", req.price)
    if req.price > 0 and _points(spec, abs(price - req.price)) > req.deviation:
        raise TradeRefused(R.REQUOTE, f"price {price} is more than {req.deviation} points from {req.price}")


def check_stops(
    spec: SymbolSpec, buying: bool, reference: float, sl: float, tp: float
) -> tuple[float, float]:
    """SL/TP as given (0.0 for -0.0); refused (10016) when negative, off the grid, on the wrong side of
    `reference` or too close to it."""
    check_price(spec, "sl", sl)
    check_price(spec, "tp", tp)
    sl, tp = sl or 0.0, tp or 0.0
    minimum = max(spec.stops_level, 1)
    if sl and _points(spec, reference - sl if buying else sl - reference) < minimum:
        side = "below" if buying else "above"
        raise TradeRefused(R.INVALID_STOPS, f"field 'sl': {sl} must be {minimum}+ points {side} {reference}")
    if tp and _points(spec, tp - reference if buying else reference - tp) < minimum:
        side = "above" if buying else "below"
        raise TradeRefused(R.INVALID_STOPS, f"field 'tp': {tp} must be {minimum}+ points {side} {reference}")
    return sl, tp


def check_pending_price(spec: SymbolSpec, order_type: int, price: float, tick: Tick) -> None:
    """Refuse (10015) a pending price on the wrong side of the market or within the stops level."""
    distance = {
        mt5.ORDER_TYPE_BUY_LIMIT: tick.ask - price,
        mt5.ORDER_TYPE_BUY_STOP: price - tick.ask,
        mt5.ORDER_TYPE_SELL_LIMIT: price - tick.bid,
        mt5.ORDER_TYPE_SELL_STOP: tick.bid - price,
    }[order_type]
    minimum = max(spec.stops_level, 1)
    if _points(spec, distance) < minimum:
        raise TradeRefused(
            R.INVALID_PRICE,
            f"field 'price': {price} is on the wrong side of the market "
            f"(bid {tick.bid}, ask {tick.ask}) or within {minimum} points",
        )


def _points(spec: SymbolSpec, distance: float) -> float:
    """`distance` in whole points; a distance too large for an int (1e308 / 1e-5) stays an infinite float."""
    points = distance / spec.point
    return round(points) if math.isfinite(points) else points


def expiration_of(now_ms: int, req: TradeRequest) -> int:
    """The order's expiry (epoch seconds, 0 for none) from type_time and expiration; 10022 when past."""
    now_s, day_s = now_ms // 1000, 86_400
    if req.type_time == mt5.ORDER_TIME_GTC:
        return 0
    if req.type_time == mt5.ORDER_TIME_DAY:
        return (now_s // day_s + 1) * day_s
    if req.type_time not in (mt5.ORDER_TIME_SPECIFIED, mt5.ORDER_TIME_SPECIFIED_DAY):
        raise TradeRefused(R.INVALID, f"unknown type_time {req.type_time}")
    if req.expiration <= now_s:
        raise TradeRefused(R.INVALID_EXPIRATION, f"expiration {req.expiration} is not in the future")
    if req.type_time == mt5.ORDER_TIME_SPECIFIED_DAY:
        return (req.expiration // day_s + 1) * day_s
    return req.expiration
