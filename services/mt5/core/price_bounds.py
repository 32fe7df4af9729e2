"""The platform's bound on how far a request's prices may lie from the market, for every terminal.

MT5 checks that a stop is on the right side of the price and not too close; it sets no far bound, so a
SELL with `sl: 1e20` is a valid stop that can never trigger, and 1e308 overflows the arithmetic behind it.
A price, stop-limit, SL or TP farther from the market than `max_fraction` times the market price is
refused here, before the terminal sees it, with the retcode MT5 uses for a bad price (10015) or stop
(10016) and a comment naming the field, as the terminal itself would answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.market import mt5_constants as mt5
from shared.market.records import Tick

R = mt5.TradeRetcode
_RETCODE_BY_FIELD = {
    "price": R.INVALID_PRICE,
    "stoplimit": R.INVALID_PRICE,
    "sl": R.INVALID_STOPS,
    "tp": R.INVALID_STOPS,
}
_DESCRIPTIONS = {
    R.INVALID_PRICE: "Invalid price in the request",
    R.INVALID_STOPS: "Invalid stops in the request",
}
PRICE_FIELDS = tuple(_RETCODE_BY_FIELD)


def priced_fields(request: Mapping[str, Any]) -> list[str]:
    """The price fields the request sets (a positive number); the terminal judges the others."""
    return [
        name
        for name in PRICE_FIELDS
        if isinstance(value := request.get(name), int | float) and not isinstance(value, bool) and value > 0
    ]


def distance_refusal(request: Mapping[str, Any], tick: Tick, max_fraction: float) -> tuple[int, str] | None:
    """(retcode, comment) for the first price field beyond the bound, or None when all are within it."""
    market = tick.bid if tick.bid > 0 else tick.ask
    if market <= 0:  # no quote: the terminal refuses the request itself
        return None
    for name in priced_fields(request):
        value = request[name]
        if abs(value - market) > max_fraction * market:
            retcode = _RETCODE_BY_FIELD[name]
            detail = (
                f"field '{name}': {value} is farther from the market ({market}) than "
                f"{max_fraction:g} times its price (mt5.max_price_distance_fraction)"
            )
            return retcode, f"{_DESCRIPTIONS[retcode]}: {detail}"
    return None
