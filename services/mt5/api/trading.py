"""The kill switch and the trading status (mode, live gate, backend, risk limits)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from services.mt5.api.deps import DeskDep, KillSwitchDep
from services.mt5.core.trading import trading_status
from services.mt5.schemas import HaltRequest, TradingStatusRead

router = APIRouter(prefix="/trading", tags=["trading"])


@router.get("/status", response_model=TradingStatusRead)
async def get_status(desk: DeskDep, kill_switch: KillSwitchDep) -> dict[str, Any]:
    """Whether orders are accepted, and under which limits."""
    return trading_status(desk, kill_switch)


@router.post("/halt", response_model=TradingStatusRead)
async def halt(desk: DeskDep, kill_switch: KillSwitchDep, body: HaltRequest | None = None) -> dict[str, Any]:
    """Kill switch on: every order that adds risk is refused (closing and deleting still work)."""
    await run_in_threadpool(kill_switch.halt, (body or HaltRequest()).reason)
    return trading_status(desk, kill_switch)


@router.post("/resume", response_model=TradingStatusRead)
async def resume(desk: DeskDep, kill_switch: KillSwitchDep) -> dict[str, Any]:
    """Kill switch off."""
    await run_in_threadpool(kill_switch.resume)
    return trading_status(desk, kill_switch)
