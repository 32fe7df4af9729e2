"""The one FastAPI app factory every service uses.

It gives each service `/health`, `/metrics` (Prometheus text), `/ws/events` (its own event stream),
the one JSON error shape for every error, request logging and metrics, the internal-token check, request
body limits, and graceful shutdown (including when the supervising process disappears). Services add their
routers and a lifespan that builds their core objects into `app.state`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import re
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.body_limits import BodyLimitMiddleware
from shared.config import PlatformSettings, resolve_internal_token
from shared.disk_full import DiskFullError, StorageState, is_disk_full
from shared.errors import PlatformError
from shared.event_catalog import STREAM_LAGGED
from shared.event_stream import serve_event_stream
from shared.events import EventBus
from shared.market.names import NAME_ERROR_CODES
from shared.platform import current as process_layer

log = logging.getLogger(__name__)

VERSION = "2.0.0"
SUPERVISOR_PID_ENV = "MT5P_SUPERVISOR_PID"
INTERNAL_TOKEN_HEADER = "x-internal-token"
OPEN_PATHS = frozenset({"/health"})

HealthCheck = Callable[[FastAPI], Awaitable[dict[str, Any]]]
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorResponse(BaseModel):
    """The one error shape: every refusal and failure of every service answers with it."""

    error: ErrorDetail


# Declared on every operation, so the OpenAPI schema documents the answers a client must handle besides success.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorResponse, "description": "Refused; the error names the problem (and the field)"},
    503: {"model": ErrorResponse, "description": "A terminal or service this call needs is unavailable"},
    504: {"model": ErrorResponse, "description": "A service this call needs did not answer in time"},
}


class FastJSONResponse(JSONResponse):
    """JSON via orjson: numpy arrays and NaN (as null) serialise without a detour through lists."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> FastJSONResponse:
    return FastJSONResponse(error_body(code, message, details), status_code=status)


class ServiceMetrics:
    """Prometheus collectors of one app, on its own registry (several apps may share a process in tests)."""

    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["service", "route"],
            registry=self.registry,
        )
        self.events = Gauge(
            "events_published_total", "Events published on the bus", ["service"], registry=self.registry
        )
        self.ws_clients = Gauge(
            "ws_event_clients", "Connected /ws/events clients", ["service"], registry=self.registry
        )
        self.service = service


class InternalTokenMiddleware:
    """Children accept calls only with the supervisor's internal token (`/health` excepted)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        supplied = dict(scope["headers"]).get(INTERNAL_TOKEN_HEADER.encode(), b"")
        if hmac.compare_digest(supplied, self.token):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = error_response(401, "unauthorized", "missing or wrong internal token")
        await response(scope, receive, send)


class RequestMetricsMiddleware:
    """Counts and times every HTTP request by route template, and logs it."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            self.metrics.requests.labels(self.metrics.service, scope["method"], template, str(status)).inc()
            elapsed = time.perf_counter() - started
            self.metrics.latency.labels(self.metrics.service, template).observe(elapsed)
            # Refusals are worth a line each; successful calls only when debugging (collectors poll often).
            level = logging.WARNING if status >= 500 else logging.INFO if status >= 400 else logging.DEBUG
            log.log(level, "%s %s -> %d (%.1f ms)", scope["method"], scope["path"], status, elapsed * 1000)


_PATH_PARAM = re.compile(r"\\\{[^}]*\\\}")  # a `{name}` of a path template, once re.escape'd
_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The documented methods of `path`'s resource, a concrete template winning over a templated one as in
    OpenAPI (Starlette's 405 names the methods of the first route that matched, which may be another's)."""
    matching = [
        (template.count("{"), operations)
        for template, operations in app.openapi()["paths"].items()
        if re.fullmatch(_PATH_PARAM.sub("[^/]+", re.escape(template)), path)
    ]
    fewest = min((params for params, _ in matching), default=0)
    return sorted(
        {
            m.upper()
            for params, operations in matching
            if params == fewest
            for m in operations
            if m in _HTTP_METHODS
        }
    )


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to `{"error": {"code", "message", "details"}}`; never a traceback."""

    @app.exception_handler(PlatformError)
    async def _platform(request: Request, exc: PlatformError) -> FastJSONResponse:
        if isinstance(exc, DiskFullError):
            _storage(request).report_full(f"{request.method} {request.url.path}", exc)
        return FastJSONResponse(exc.to_body(), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> FastJSONResponse:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        message = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        if first.get("type") in NAME_ERROR_CODES:
            # An unknown timeframe is refused alike wherever it is given (path, query or body).
            value = exc.errors()[0].get("input")
            details = {"field": first["field"], "value": value, "errors": problems}
            return error_response(422, first["type"], message, details)
        return error_response(422, "validation_error", message, {"errors": problems})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> FastJSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}
        response = error_response(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405 and (allowed := allowed_methods(app, request.url.path)):
            response.headers["Allow"] = ", ".join(allowed)
        return response

    async def _storage_error(request: Request, exc: Exception) -> FastJSONResponse:
        # Registered per class so Starlette answers here and does not re-raise to the server (a traceback
        # per call): a full disk no store translated is still the named state, reported once.
        if is_disk_full(exc):
            where = f"{request.method} {request.url.path}"
            _storage(request).report_full(where, exc)
            return error_response(507, DiskFullError.code, f"disk full: {where} could not write")
        return await _unexpected(request, exc)

    for storage_error in (OSError, sqlite3.Error, SQLAlchemyError):
        app.add_exception_handler(storage_error, _storage_error)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> FastJSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; see the service log")


def _storage(request: Request) -> StorageState:
    storage: StorageState = request.app.state.storage
    return storage


async def _watch_supervisor(supervisor_pid: int) -> None:
    """Stop gracefully when the supervisor is gone (killed with -9), so no child is ever orphaned."""
    layer = process_layer()
    while True:
        await asyncio.sleep(0.5)
        if layer.parent_gone(supervisor_pid):
            log.warning("supervisor %d is gone; shutting down", supervisor_pid)
            # uvicorn's own SIGTERM handler (a Python handler on every OS) runs the graceful shutdown.
            signal.raise_signal(signal.SIGTERM)
            return


def create_service_app(
    name: str,
    settings: PlatformSettings,
    *,
    routers: Sequence[APIRouter] = (),
    lifespan: Lifespan | None = None,
    health_checks: HealthCheck | None = None,
    require_internal_token: bool = True,
    description: str = "",
    event_snapshot: Callable[[FastAPI], list[str]] | None = None,
    lag_event_type: str = STREAM_LAGGED,
) -> FastAPI:
    """Build a service's FastAPI app with the platform's common endpoints and behaviour."""
    bus = EventBus(name)
    metrics = ServiceMetrics(name)
    started_monotonic = time.monotonic()

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus.bind_loop(asyncio.get_running_loop())
        watcher = None
        supervisor_pid = os.environ.get(SUPERVISOR_PID_ENV)
        if supervisor_pid:
            watcher = asyncio.create_task(_watch_supervisor(int(supervisor_pid)))
        log.info("%s starting (pid %d)", name, os.getpid())
        try:
            if lifespan is not None:
                async with lifespan(app):
                    yield
            else:
                yield
        finally:
            if watcher is not None:
                watcher.cancel()
            log.info("%s stopped", name)

    app = FastAPI(
        title=f"MT5 Platform — {name}",
        version=VERSION,
        description=description,
        lifespan=_lifespan,
        default_response_class=FastJSONResponse,
        responses=ERROR_RESPONSES,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN; backend-api serves every service's docs
        # with local files instead (services/backend_api/api/docs.py). The schema stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.service_name = name
    app.state.settings = settings
    app.state.bus = bus
    app.state.metrics = metrics
    # Stores report a full disk here (writes that succeed for the hold clear it); /health shows it.
    app.state.storage = storage = StorageState(
        bus.publish_threadsafe, hold_s=settings.system.disk_full_hold_s
    )

    install_error_handlers(app)

    @app.get("/health", tags=["platform"])
    async def health() -> dict[str, Any]:
        checks = await health_checks(app) if health_checks is not None else {}
        checks["storage"] = storage.check()
        ok = all(c.get("ok", True) for c in checks.values() if isinstance(c, dict))
        return {
            "status": "ok" if ok else "degraded",
            "service": name,
            "version": VERSION,
            "uptime_s": round(time.monotonic() - started_monotonic, 3),
            "pid": os.getpid(),
            "checks": checks,
        }

    @app.get("/metrics", tags=["platform"], response_class=Response)
    async def prometheus_metrics() -> Response:
        metrics.events.labels(name).set(bus.published)
        metrics.ws_clients.labels(name).set(bus.subscriber_count)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.websocket("/ws/events")
    async def events(websocket: WebSocket) -> None:
        mon = settings.monitoring
        await serve_event_stream(
            websocket,
            bus,
            queue_size=mon.event_queue_size,
            send_timeout_s=mon.ws_send_timeout_s,
            heartbeat_interval_s=mon.heartbeat_interval_s,
            send_batch=mon.ws_send_batch,
            max_lost_events=mon.ws_max_lost_events,
            snapshot=event_snapshot(app) if event_snapshot is not None else (),
            lag_event_type=lag_event_type,
        )

    for router in routers:
        app.include_router(router)

    # Inside the metrics, so a refused body is counted and logged as its 413.
    app.add_middleware(BodyLimitMiddleware, service=name, limits=settings.body_limits)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    if require_internal_token:
        app.add_middleware(InternalTokenMiddleware, token=resolve_internal_token(settings))
    return app
