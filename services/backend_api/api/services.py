"""Supervision endpoints: platform status, each service's status, start/stop/restart, log tails."""

from __future__ import annotations

import os
import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from services.backend_api.api.deps import RelayDep, SupervisorDep
from services.backend_api.schemas import LogTail, LoopLag, PlatformStatus
from shared.log import RedactingFilter
from shared.models import ServiceState, ServiceStatus
from shared.tail import is_health_check, tail_lines

router = APIRouter(prefix="/api", tags=["supervision"])


def self_status(request: Request) -> ServiceStatus:
    """backend-api's own entry, so the platform shows all seven services."""
    settings = request.app.state.settings
    section = settings.service("backend-api")
    return ServiceStatus(
        name="backend-api",
        state=ServiceState.ONLINE,
        port=section.port,
        pid=os.getpid(),
        url=section.base_url,
        started_at_ms=request.app.state.started_at_ms,
        uptime_s=round(time.monotonic() - request.app.state.started_monotonic, 3),
    )


@router.get("/status", response_model=PlatformStatus)
async def platform_status(request: Request, supervisor: SupervisorDep, relay: RelayDep) -> PlatformStatus:
    services = [self_status(request), *supervisor.statuses()]
    lag = supervisor.loop_lag
    healthy = all(s.state == ServiceState.ONLINE for s in services)
    return PlatformStatus(
        status="ok" if healthy else "degraded",
        mode=supervisor.orch.mode,
        services=services,
        hub={"clients": request.app.state.bus.subscriber_count, "upstreams": dict(relay.connected)},
        loop_lag_ms=LoopLag(
            window_s=lag.window_s,
            p99=round(lag.percentile(0.99) * 1000, 1),
            max=round(lag.percentile(1.0) * 1000, 1),
        ),
    )


@router.get("/services", response_model=list[ServiceStatus])
async def list_services(request: Request, supervisor: SupervisorDep) -> list[ServiceStatus]:
    return [self_status(request), *supervisor.statuses()]


@router.get("/services/{name}", response_model=ServiceStatus)
async def get_service(request: Request, name: str, supervisor: SupervisorDep) -> ServiceStatus:
    return self_status(request) if name == "backend-api" else supervisor.status(name)


@router.post("/services/{name}/start", response_model=ServiceStatus)
async def start_service(name: str, supervisor: SupervisorDep) -> ServiceStatus:
    return await supervisor.start(name)


@router.post("/services/{name}/stop", response_model=ServiceStatus)
async def stop_service(name: str, supervisor: SupervisorDep) -> ServiceStatus:
    return await supervisor.stop(name)


@router.post("/services/{name}/restart", response_model=ServiceStatus)
async def restart_service(name: str, supervisor: SupervisorDep) -> ServiceStatus:
    return await supervisor.restart(name)


@router.get("/services/{name}/logs", response_model=LogTail)
async def service_logs(
    request: Request,
    name: str,
    supervisor: SupervisorDep,
    lines: Annotated[int, Query(ge=1, le=5000)] = 200,
    source: Annotated[Literal["service", "console"], Query()] = "service",
    hide_health: Annotated[
        bool, Query(description="leave out the supervisor's successful health polls")
    ] = False,
) -> LogTail:
    if name != "backend-api":
        supervisor.status(name)  # 404 for an unknown service
    log_dir = request.app.state.settings.log_dir
    path = log_dir / (f"{name}.log" if source == "service" else f"{name}.console.log")
    redactor: RedactingFilter = request.app.state.redactor
    keep = (lambda line: not is_health_check(line)) if hide_health else None
    # Off the event loop: past a flood of health polls the tail may read back through the whole file.
    tail = await run_in_threadpool(tail_lines, path, lines, keep)
    return LogTail(service=name, source=source, lines=[redactor.redact(line) for line in tail])
