"""Trading history: finished orders and deals in a time range."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.mt5.api.deps import GatewayDep
from services.mt5.core.position_costs import FAR_FUTURE_S
from services.mt5.schemas import INT64_MAX, DealList, OrderList
from shared.errors import InvalidInputError
from shared.market.names import SymbolName
from shared.utils import parse_time_s

router = APIRouter(prefix="/history", tags=["history"])

TimeQuery = Annotated[str | None, Query(description="ISO-8601 or epoch seconds (UTC)")]


def _range(from_: str | None, to: str | None) -> tuple[int, int]:
    from_s = parse_time_s(from_, field="from") if from_ is not None else 0
    to_s = parse_time_s(to, field="to") if to is not None else FAR_FUTURE_S
    if from_s > to_s:
        raise InvalidInputError(
            f"from ({from_s}) is after to ({to_s})", code="invalid_range", details={"field": "from"}
        )
    return from_s, to_s


@router.get("/deals", response_model=DealList)
async def history_deals(
    gateway: GatewayDep,
    from_: Annotated[str | None, Query(alias="from", description="ISO-8601 or epoch s")] = None,
    to: TimeQuery = None,
    symbol: Annotated[SymbolName | None, Query(description="only this symbol's deals")] = None,
    magic: Annotated[
        int | None, Query(ge=0, le=INT64_MAX, description="only deals of this magic number (an instance's)")
    ] = None,
) -> list[dict[str, Any]]:
    """Deals done in [from, to] (history_deals_get); all of them by default, or those of one symbol and/or
    magic number."""
    from_s, to_s = _range(from_, to)
    deals = await gateway.call("history_deals_get", gateway.terminal.history_deals_get, from_s, to_s)
    # MT5's history_deals_get selects by group (a wildcard, wider than one name) but not by magic: filtered
    # here, so every terminal answers the same.
    return [
        d._asdict()
        for d in deals
        if (symbol is None or d.symbol == symbol) and (magic is None or d.magic == magic)
    ]


@router.get("/orders", response_model=OrderList)
async def history_orders(
    gateway: GatewayDep,
    from_: Annotated[str | None, Query(alias="from", description="ISO-8601 or epoch s")] = None,
    to: TimeQuery = None,
) -> list[dict[str, Any]]:
    """Finished orders set up in [from, to] (history_orders_get); all of them by default."""
    from_s, to_s = _range(from_, to)
    orders = await gateway.call("history_orders_get", gateway.terminal.history_orders_get, from_s, to_s)
    return [o._asdict() for o in orders]
