"""Orders: send (order_send), check (order_check), list, modify and cancel pending orders.

A refused request answers 4xx with `details.retcode`, `retcode_name`, `comment` and `field`; nothing
changes. See services/mt5/core/trading.py for the retcode -> status mapping.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.mt5.api.deps import DeskDep, GatewayDep
from services.mt5.core.trading import BatchItem, CloseItem, OrderItem, retcode_name
from services.mt5.schemas import (
    BatchClose,
    BatchOrder,
    OrderBatchCreate,
    OrderBatchRead,
    OrderCheckRead,
    OrderCreate,
    OrderList,
    OrderResultRead,
    OrderUpdate,
    TicketPath,
    order_result_body,
)
from shared.errors import PlatformError
from shared.market.names import SymbolName

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post("", response_model=OrderResultRead)
async def send_order(body: OrderCreate, desk: DeskDep) -> dict[str, Any]:
    """Send a trade request through the live gate and the risk guard to the terminal."""
    result = await desk.send(body.mt5_request(), body.client_order_id)
    return order_result_body(result, body.client_order_id)


@router.post("/batch", response_model=OrderBatchRead)
async def send_batch(body: OrderBatchCreate, desk: DeskDep) -> dict[str, Any]:
    """Send several orders and closes one after another in one call, each through the live gate, the risk
    guard and its client order id exactly as alone. Each answers in `results`, in order, with the status
    it would have had alone (a refusal does not stop the rest); the call itself is 200 once validated."""
    items = [_batch_item(request) for request in body.requests]
    outcomes = await desk.send_batch(items)
    results = []
    for item, outcome in zip(items, outcomes, strict=True):
        if isinstance(outcome, PlatformError):
            results.append({"status": outcome.status_code, "error": outcome.to_body()["error"]})
        else:
            results.append({"status": 200, "result": order_result_body(outcome, item.client_order_id)})
    return {"results": results}


def _batch_item(request: BatchOrder | BatchClose) -> BatchItem:
    if isinstance(request, BatchOrder):
        return OrderItem(request.mt5_request(), request.client_order_id)
    extra = request.model_dump(exclude={"kind", "ticket", "volume", "client_order_id"})
    return CloseItem(request.ticket, request.volume, request.client_order_id, extra)


@router.post("/check", response_model=OrderCheckRead)
async def check_order(body: OrderCreate, desk: DeskDep) -> dict[str, Any]:
    """What order_send would do (retcode 0 = it would pass) and the risk rule it would break; sends nothing."""
    result, violation = await desk.check(body.mt5_request())
    name = "DONE" if result.retcode == 0 else retcode_name(result.retcode)
    return {
        **result._asdict(),
        "request": result.request._asdict(),
        "retcode_name": name,
        "risk_violation": violation,
    }


@router.get("", response_model=OrderList)
async def list_orders(
    gateway: GatewayDep, symbol: Annotated[SymbolName | None, Query()] = None
) -> list[dict[str, Any]]:
    """Open pending orders (orders_get)."""
    orders = await gateway.call("orders_get", gateway.terminal.orders_get, symbol=symbol)
    return [o._asdict() for o in orders]


@router.patch("/{ticket:int}", response_model=OrderResultRead)
async def modify_order(ticket: TicketPath, body: OrderUpdate, desk: DeskDep) -> dict[str, Any]:
    """Change a pending order's price, SL, TP or expiry (TRADE_ACTION_MODIFY)."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return order_result_body(await desk.modify_order(ticket, changes))


@router.delete("/{ticket:int}", response_model=OrderResultRead)
async def cancel_order(ticket: TicketPath, desk: DeskDep) -> dict[str, Any]:
    """Delete a pending order (TRADE_ACTION_REMOVE)."""
    return order_result_body(await desk.cancel_order(ticket))
