"""Open positions: list, change SL/TP, close all or part."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.mt5.api.deps import DeskDep, GatewayDep
from services.mt5.core.position_costs import entry_commissions, entry_deals_range
from services.mt5.schemas import (
    OrderResultRead,
    PositionClose,
    PositionList,
    PositionUpdate,
    TicketPath,
    order_result_body,
)
from shared.market.names import SymbolName

router = APIRouter(prefix="/positions", tags=["positions"])


@router.get("", response_model=PositionList)
async def list_positions(
    gateway: GatewayDep, symbol: Annotated[SymbolName | None, Query()] = None
) -> list[dict[str, Any]]:
    """Open positions (positions_get), valued at current prices, with the commission of their entry deals."""
    positions = await gateway.call("positions_get", gateway.terminal.positions_get, symbol=symbol)
    span = entry_deals_range(positions)
    deals = (
        ()
        if span is None
        else await gateway.call("history_deals_get", gateway.terminal.history_deals_get, *span)
    )
    commissions = entry_commissions(deals, positions)
    return [{**p._asdict(), "commission": commissions[p.identifier]} for p in positions]


@router.patch("/{ticket:int}", response_model=OrderResultRead)
async def modify_position(ticket: TicketPath, body: PositionUpdate, desk: DeskDep) -> dict[str, Any]:
    """Change SL and/or TP (TRADE_ACTION_SLTP)."""
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return order_result_body(await desk.modify_position(ticket, changes))


@router.post("/{ticket:int}/close", response_model=OrderResultRead)
async def close_position(
    ticket: TicketPath, desk: DeskDep, body: PositionClose | None = None
) -> dict[str, Any]:
    """Close the position, or `volume` lots of it, with an opposite market deal."""
    body = body or PositionClose()
    extra = body.model_dump(exclude={"volume", "client_order_id"})
    result = await desk.close_position(
        ticket, volume=body.volume, client_order_id=body.client_order_id, **extra
    )
    return order_result_body(result, body.client_order_id)
