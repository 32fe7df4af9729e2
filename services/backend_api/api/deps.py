"""Typed dependencies: the core objects built in the lifespan, handed to routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.backend_api.core.gateway import Proxy
from services.backend_api.core.hub import ChildEventRelay
from services.backend_api.core.supervisor import Supervisor


async def get_supervisor(request: Request) -> Supervisor:
    return request.app.state.supervisor


async def get_proxy(request: Request) -> Proxy:
    return request.app.state.proxy


async def get_relay(request: Request) -> ChildEventRelay:
    return request.app.state.relay


SupervisorDep = Annotated[Supervisor, Depends(get_supervisor)]
ProxyDep = Annotated[Proxy, Depends(get_proxy)]
RelayDep = Annotated[ChildEventRelay, Depends(get_relay)]
