"""backend-api's app: supervisor, gateway, event hub (and, later, the dashboard)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import orjson
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from services.backend_api.api import docs, routers
from services.backend_api.api.auth import ApiKeyMiddleware
from services.backend_api.core.alerts.service import running_alerts
from services.backend_api.core.auth_throttle import AuthThrottle
from services.backend_api.core.gateway import Proxy
from services.backend_api.core.hub import ChildEventRelay
from services.backend_api.core.supervisor import Supervisor
from services.backend_api.settings import BackendSettings
from shared.config import resolve_api_key, resolve_internal_token
from shared.event_catalog import HUB_LAGGED, HUB_SNAPSHOT
from shared.event_payloads import HubSnapshot, Payload, ServiceStatusChanged
from shared.events import envelope
from shared.log import RedactingFilter
from shared.platform import PidFile
from shared.runner import known_secrets
from shared.service_app import create_service_app
from shared.utils import get_timestamp_ms

NAME = "backend-api"
STATIC_DIR = Path(__file__).parent / "static"
# The dashboard talks only to this origin; nothing is loaded from anywhere else.
DASHBOARD_CSP = "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; script-src 'self'"


def _snapshot(app: FastAPI) -> list[str]:
    """What a hub client gets on connect: every service's state, then deltas."""
    statuses = [s.model_dump(mode="json") for s in app.state.supervisor.statuses()]
    event = envelope(NAME, HUB_SNAPSHOT, HubSnapshot(services=statuses), seq=0, ts=get_timestamp_ms())
    return [orjson.dumps(event).decode()]


def create_app(settings: BackendSettings) -> FastAPI:
    api_key = resolve_api_key(settings)
    token = resolve_internal_token(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pid_file = PidFile(settings.log_dir / f"{NAME}.pid")
        pid_file.write(os.getpid())
        bus = app.state.bus

        def publish(event_type: str, data: Payload) -> None:
            bus.publish(event_type, data)
            if isinstance(data, ServiceStatusChanged) and data.to == "ONLINE":
                relay.wake(data.service)

        supervisor = Supervisor(settings, internal_token=token, publish=publish)
        relay = ChildEventRelay(
            bus, [(n, s.section.base_url) for n, s in supervisor.services.items()], internal_token=token
        )
        orch = settings.orchestrator
        proxy = Proxy(
            token,
            timeout_s=orch.proxy_timeout_s,
            connect_timeout_s=orch.proxy_connect_timeout_s,
            pool_timeout_s=orch.proxy_pool_timeout_s,
            max_connections=orch.proxy_max_connections,
            max_keepalive=orch.proxy_max_keepalive,
        )
        app.state.supervisor, app.state.relay, app.state.proxy = supervisor, relay, proxy
        async with AsyncExitStack() as alerts_stack:
            app.state.alerts = None
            if settings.alerts.enabled:
                app.state.alerts = await alerts_stack.enter_async_context(
                    running_alerts(
                        settings,
                        publish=bus.publish,
                        listen=bus.add_listener,
                        redact=app.state.redactor.redact,
                    )
                )
            await supervisor.start_all()
            relay.start()
            try:
                yield
            finally:
                await relay.aclose()
                await supervisor.aclose()
                await proxy.aclose()
                pid_file.remove()

    app = create_service_app(
        NAME,
        settings,
        routers=routers,
        lifespan=lifespan,
        require_internal_token=False,
        description="Supervisor, gateway and event hub of the MT5 Trading Platform.",
        event_snapshot=_snapshot,
        lag_event_type=HUB_LAGGED,
    )
    app.state.started_at_ms = get_timestamp_ms()
    app.state.started_monotonic = time.monotonic()
    app.state.redactor = RedactingFilter(known_secrets(settings))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(docs.SWAGGER_UI_PREFIX, StaticFiles(directory=docs.SWAGGER_UI_DIR), name="swagger-ui")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Content-Security-Policy": DASHBOARD_CSP})

    app.add_middleware(
        ApiKeyMiddleware,
        api_key=api_key,
        throttle=AuthThrottle(
            settings.orchestrator.auth_max_failures, settings.orchestrator.auth_failure_window_s
        ),
        open_paths=frozenset({"/"}),
        open_prefixes=("/static/", f"{docs.SWAGGER_UI_PREFIX}/"),
        query_key_paths=docs.DOCS_PAGE,
    )
    return app
