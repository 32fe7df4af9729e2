"""Symbols and their latest quotes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.mt5.api.deps import MarketDep
from services.mt5.schemas import SymbolList, SymbolRead, TickRead
from shared.market.names import SymbolName

router = APIRouter(prefix="/symbols", tags=["symbols"])


@router.get("", response_model=SymbolList)
async def list_symbols(market: MarketDep) -> list[dict[str, Any]]:
    """Every symbol of the terminal with MT5's SymbolInfo facts."""
    return [s._asdict() for s in await market.symbols()]


@router.get("/{symbol}", response_model=SymbolRead)
async def get_symbol(symbol: SymbolName, market: MarketDep) -> dict[str, Any]:
    """One symbol's facts (digits, point, contract size, volume limits, currencies ...) and quote."""
    return (await market.symbol_info(symbol))._asdict()


@router.get("/{symbol}/tick", response_model=TickRead)
async def get_tick(symbol: SymbolName, market: MarketDep) -> dict[str, Any]:
    """The latest tick (MT5's symbol_info_tick)."""
    return (await market.tick(symbol))._asdict()
