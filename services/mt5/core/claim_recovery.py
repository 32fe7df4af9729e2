"""Settle, at start, the client order ids a dead process left claimed: done with the order it placed, or free.

A claim without a result means the process died between claiming the id and storing the terminal's
answer. The terminal's orders tell which: an order of the claimed request (same symbol, type, volume,
magic, comment and position, as the client id itself never reaches the terminal) set up at or after the
claim, and not already the result of another id, is that request's order: the id is settled as done with
the result rebuilt from the order and its deals. No such order: the terminal never took the request, and
the id is freed so a retry sends it. Claims are matched oldest first, each to the earliest free order, so
two identical requests under two ids get one order each. A claim from a version that did not keep the
request stays in flight (409), as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from services.mt5.core.idempotency import Claim, ClientOrderIds
from services.mt5.core.terminal import Terminal
from shared.market import mt5_constants as mt5
from shared.market.records import OrderSendResult, TradeOrder, trade_request_from_dict

log = logging.getLogger(__name__)

R = mt5.TradeRetcode
_ORDER_ACTIONS = (mt5.TRADE_ACTION_DEAL, mt5.TRADE_ACTION_PENDING)
_HISTORY_END_S = 4_102_444_800  # 2100-01-01: "up to now" on any terminal's clock
_VOLUME_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Settlement:
    done: list[str]
    freed: list[str]
    unknown: list[str]


def settle_claims(ids: ClientOrderIds, terminal: Terminal, *, slack_ms: int) -> Settlement | None:
    """Settle every unsettled claim against the terminal's orders; None when the terminal cannot tell now.

    `slack_ms`: how much earlier than its claim an order may be stamped (a real terminal's clock is
    not the service's)."""
    claims = ids.unsettled()
    if not claims:
        return Settlement([], [], [])
    since_s = (claims[0].created_ms - slack_ms) // 1000
    history = terminal.history_orders_get(since_s, _HISTORY_END_S)
    open_orders = terminal.orders_get()
    if history is None or open_orders is None:
        log.warning("claimed client order ids left in flight: the terminal's orders cannot be read now")
        return None
    candidates = sorted(
        {o.ticket: o for o in (*history, *open_orders)}.values(), key=lambda o: o.time_setup_msc
    )
    taken = ids.settled_orders()
    settlement = Settlement([], [], [])
    for claim in claims:
        if claim.request is None:
            settlement.unknown.append(claim.client_id)
            continue
        order = _order_of(claim, candidates, taken, slack_ms)
        if order is None:
            ids.release(claim.client_id)
            settlement.freed.append(claim.client_id)
            continue
        taken.add(order.ticket)
        ids.settle(claim.client_id, _result_of(order, claim.request, terminal))
        settlement.done.append(claim.client_id)
    log.info(
        "claimed client order ids settled at start: %d done, %d freed, %d unknown",
        len(settlement.done),
        len(settlement.freed),
        len(settlement.unknown),
    )
    return settlement


def _order_of(claim: Claim, orders: list[TradeOrder], taken: set[int], slack_ms: int) -> TradeOrder | None:
    request = claim.request or {}
    if request.get("action") not in _ORDER_ACTIONS:
        return None  # SLTP, MODIFY, REMOVE, CLOSE_BY place no order of their own
    for order in orders:
        if order.ticket in taken or order.time_setup_msc < claim.created_ms - slack_ms:
            continue
        if _same_request(order, request):
            return order
    return None


def _same_request(order: TradeOrder, request: dict[str, Any]) -> bool:
    position = request.get("position", 0)
    return (
        order.symbol == request.get("symbol", "")
        and order.type == request.get("type", mt5.ORDER_TYPE_BUY)
        and order.magic == request.get("magic", 0)
        and order.comment == request.get("comment", "")
        and abs(order.volume_initial - float(request.get("volume", 0.0))) < _VOLUME_TOLERANCE
        and (not position or order.position_id == position)
    )


def _result_of(order: TradeOrder, request: dict[str, Any], terminal: Terminal) -> OrderSendResult:
    """The OrderSendResult the order had: DONE with its deal, or PLACED for a pending order."""
    req = trade_request_from_dict(request)
    deals = terminal.history_deals_get(ticket=order.ticket) or ()
    note = f"(settled at start from order {order.ticket} in the terminal's history)"
    if deals:
        return OrderSendResult(
            retcode=R.DONE,
            deal=deals[0].ticket,
            order=order.ticket,
            volume=sum(d.volume for d in deals),
            price=deals[0].price,
            bid=0.0,
            ask=0.0,
            comment=f"Request completed {note}",
            request_id=0,
            retcode_external=0,
            request=req,
        )
    return OrderSendResult(
        retcode=R.PLACED,
        deal=0,
        order=order.ticket,
        volume=order.volume_initial,
        price=order.price_open,
        bid=0.0,
        ask=0.0,
        comment=f"Order placed {note}",
        request_id=0,
        retcode_external=0,
        request=req,
    )
