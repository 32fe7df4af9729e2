"""`/api/{service}/{path}`: every child's REST API through one authenticated address."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from services.backend_api.api.deps import ProxyDep, SupervisorDep
from shared.errors import ServiceUnavailableError
from shared.models import ServiceState

router = APIRouter(tags=["gateway"])
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/api/{service}/{path:path}", methods=METHODS)
async def proxy(
    service: str, path: str, request: Request, supervisor: SupervisorDep, proxy: ProxyDep
) -> StreamingResponse:
    status = supervisor.status(service)  # 404 unknown_service
    if status.state in (ServiceState.STOPPED, ServiceState.ERROR):
        raise ServiceUnavailableError(
            f"{service} is {status.state.value}" + (f": {status.last_error}" if status.last_error else ""),
            details={"service": service, "state": status.state.value},
        )
    upstream = await proxy.forward(
        service=service,
        base_url=status.url,
        method=request.method,
        path=path,
        query=request.scope.get("query_string", b""),
        headers=request.scope["headers"],
        body=request.stream(),
    )
    return StreamingResponse(
        upstream.body,
        status_code=upstream.status_code,
        headers=dict(upstream.headers),
        background=BackgroundTask(upstream.close.aclose),
    )
