"""The terminal connection, the terminal itself and the trading account."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.mt5.api.deps import GatewayDep
from services.mt5.schemas import AccountRead, ConnectionRead, TerminalRead
from shared.errors import ServiceUnavailableError

router = APIRouter(tags=["terminal"])


@router.post("/connect", response_model=ConnectionRead)
async def connect(gateway: GatewayDep) -> dict[str, Any]:
    """Connect to the terminal now (credentials come from the environment, never from requests)."""
    status = await gateway.connect()
    if not status["ok"]:
        raise ServiceUnavailableError(
            f"cannot connect to the {gateway.backend} terminal: {status['reason']}",
            code="terminal_unavailable",
            details=status,
        )
    return status


@router.post("/disconnect", response_model=ConnectionRead)
async def disconnect(gateway: GatewayDep) -> dict[str, Any]:
    """Disconnect on purpose; no reconnecting until POST /connect."""
    return await gateway.disconnect()


@router.get("/terminal", response_model=TerminalRead)
async def terminal_info(gateway: GatewayDep) -> dict[str, Any]:
    """MT5's terminal_info()."""
    return (await gateway.call("terminal_info", gateway.terminal.terminal_info))._asdict()


@router.get("/account", response_model=AccountRead)
async def account_info(gateway: GatewayDep) -> dict[str, Any]:
    """MT5's account_info(): balance, equity, margin, free margin, margin level ... at current prices."""
    return (await gateway.call("account_info", gateway.terminal.account_info))._asdict()
