"""`/api/{service}/{path}`: every child's REST API through one authenticated address."""

from __future__ import annotations

from urllib.parse import quote_from_bytes, unquote

from fastapi import APIRouter, Request
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from services.backend_api.api.deps import ProxyDep, SupervisorDep
from services.backend_api.core.supervisor import Supervisor
from shared.errors import ServiceUnavailableError
from shared.models import ServiceState, ServiceStatus

router = APIRouter(tags=["gateway"])
# OPTIONS too, so a child answers it (a 405 naming its own methods) rather than the gateway for it.
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Characters a path may carry unescaped (RFC 3986 pchar and "/"); "%" keeps the client's escapes as they are.
_PATH_SAFE = "/%!$&'()*+,;=:@-._~"


def raw_target(request: Request) -> tuple[str, str]:
    """The service and the path after `/api/{service}/` as the client encoded them: the decoded path would
    turn `%3F` into a query, `%0B` into a URL the HTTP client refuses, and `mt5%2Fhealth` into a service
    followed by a path (it is one segment, naming no service)."""
    _, _, service, *rest = request.scope["raw_path"].split(b"/", 3)
    return unquote(service.decode("latin-1")), quote_from_bytes(rest[0] if rest else b"", safe=_PATH_SAFE)


def running_target(supervisor: Supervisor, service: str) -> ServiceStatus:
    """The status of the child a request is for: 404 unknown_service, 503 when it is stopped or failed."""
    status = supervisor.status(service)
    if status.state in (ServiceState.STOPPED, ServiceState.ERROR):
        raise ServiceUnavailableError(
            f"{service} is {status.state.value}" + (f": {status.last_error}" if status.last_error else ""),
            details={"service": service, "state": status.state.value},
        )
    return status


async def proxy(
    service: str, path: str, request: Request, supervisor: SupervisorDep, proxy: ProxyDep
) -> StreamingResponse:
    service, path = raw_target(request)  # the route's decoded parameters only document the operation
    status = running_target(supervisor, service)
    upstream = await proxy.forward(
        service=service,
        base_url=status.url,
        method=request.method,
        path=path,
        query=request.scope.get("query_string", b""),
        headers=request.scope["headers"],
        body=request.stream(),
    )
    response = StreamingResponse(
        upstream.body, status_code=upstream.status_code, background=BackgroundTask(upstream.close.aclose)
    )
    # As a list: a mapping would keep one of several headers of the same name (two cookies, one lost).
    response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in upstream.headers]
    return response


# One route per method, so that each OpenAPI operation has an id of its own.
for _method in METHODS:
    router.add_api_route(
        "/api/{service}/{path:path}", proxy, methods=[_method], operation_id=f"proxy_{_method.lower()}"
    )
