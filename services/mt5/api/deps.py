"""Typed dependencies: the core objects the lifespan built, handed to routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.mt5.core.gateway import TerminalGateway
from services.mt5.core.kill_switch import KillSwitch
from services.mt5.core.market_data import MarketData
from services.mt5.core.trading import TradingDesk
from services.mt5.service import Mt5Components


async def get_components(request: Request) -> Mt5Components:
    return request.app.state.mt5


async def get_gateway(request: Request) -> TerminalGateway:
    return request.app.state.mt5.gateway


async def get_market(request: Request) -> MarketData:
    return request.app.state.mt5.market


async def get_desk(request: Request) -> TradingDesk:
    return request.app.state.mt5.desk


async def get_kill_switch(request: Request) -> KillSwitch:
    return request.app.state.mt5.kill_switch


ComponentsDep = Annotated[Mt5Components, Depends(get_components)]
GatewayDep = Annotated[TerminalGateway, Depends(get_gateway)]
MarketDep = Annotated[MarketData, Depends(get_market)]
DeskDep = Annotated[TradingDesk, Depends(get_desk)]
KillSwitchDep = Annotated[KillSwitch, Depends(get_kill_switch)]
