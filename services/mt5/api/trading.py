"""The kill switch and the trading status (mode, live gate, backend, risk limits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from services.mt5.api.deps import ComponentsDep
from services.mt5.schemas import HaltRequest, TradingStatusRead

router = APIRouter(prefix="/trading", tags=["trading"])


@router.get("/status", response_model=TradingStatusRead)
async def get_status(mt5: ComponentsDep) -> dict[str, Any]:
    """Whether orders are accepted, and under which limits."""
    return mt5.trading_status()


@router.post("/halt", response_model=TradingStatusRead)
async def halt(mt5: ComponentsDep, body: HaltRequest | None = None) -> dict[str, Any]:
    """Kill switch on: every order that adds risk is refused (closing and deleting still work)."""
    await run_in_threadpool(mt5.kill_switch.halt, (body or HaltRequest()).reason)
    return mt5.trading_status()


@router.post("/resume", response_model=TradingStatusRead)
async def resume(mt5: ComponentsDep) -> dict[str, Any]:
    """Kill switch off."""
    await run_in_threadpool(mt5.kill_switch.resume)
    return mt5.trading_status()
