"""Typed dependencies: the core objects built in the lifespan, handed to routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.backend_api.core.alerts.service import Alerts
from services.backend_api.core.gateway import Proxy
from services.backend_api.core.hub import ChildEventRelay
from services.backend_api.core.supervisor import Supervisor
from shared.errors import ServiceUnavailableError


async def get_supervisor(request: Request) -> Supervisor:
    return request.app.state.supervisor


async def get_proxy(request: Request) -> Proxy:
    return request.app.state.proxy


async def get_relay(request: Request) -> ChildEventRelay:
    return request.app.state.relay


async def get_alerts(request: Request) -> Alerts:
    alerts: Alerts | None = request.app.state.alerts
    if alerts is None:
        raise ServiceUnavailableError("alerts are off (alerts.enabled)", code="alerts_disabled")
    return alerts


SupervisorDep = Annotated[Supervisor, Depends(get_supervisor)]
ProxyDep = Annotated[Proxy, Depends(get_proxy)]
RelayDep = Annotated[ChildEventRelay, Depends(get_relay)]
AlertsDep = Annotated[Alerts, Depends(get_alerts)]
