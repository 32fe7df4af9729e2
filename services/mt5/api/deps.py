"""Typed dependencies: the core objects the lifespan built, handed to routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.mt5.core.gateway import TerminalGateway
from services.mt5.core.kill_switch import KillSwitch
from services.mt5.core.market_data import MarketData
from services.mt5.core.market_world import MarketWorld
from services.mt5.core.trading import TradingDesk


async def get_gateway(request: Request) -> TerminalGateway:
    return request.app.state.gateway


async def get_market(request: Request) -> MarketData:
    return request.app.state.market


async def get_desk(request: Request) -> TradingDesk:
    return request.app.state.desk


async def get_kill_switch(request: Request) -> KillSwitch:
    return request.app.state.kill_switch


async def get_world(request: Request) -> MarketWorld:
    return request.app.state.world


GatewayDep = Annotated[TerminalGateway, Depends(get_gateway)]
MarketDep = Annotated[MarketData, Depends(get_market)]
DeskDep = Annotated[TradingDesk, Depends(get_desk)]
KillSwitchDep = Annotated[KillSwitch, Depends(get_kill_switch)]
WorldDep = Annotated[MarketWorld, Depends(get_world)]
