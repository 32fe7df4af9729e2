"""The mt5 service's app: the terminal gateway (simulated terminal with a paper broker, or a real one)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.mt5.api import routers
from services.mt5.core.simulated.clock import Clock
from services.mt5.service import Mt5Components, build_components
from services.mt5.settings import Mt5Settings
from shared.service_app import create_service_app

DESCRIPTION = (
    "The terminal gateway: a simulated MT5 terminal with a paper broker, or a real terminal "
    "(MetaTrader5, mt5linux); symbols, ticks and bars, orders and positions behind a risk guard."
)


async def _health_checks(app: FastAPI) -> dict[str, Any]:
    mt5: Mt5Components | None = getattr(app.state, "mt5", None)
    if mt5 is None:
        return {"terminal": {"ok": False, "state": "starting"}}
    return {"terminal": mt5.gateway.status(), "trading": {"ok": True, **mt5.trading_status()}}


def create_app(settings: Mt5Settings, *, clock: Clock | None = None) -> FastAPI:
    """The mt5 service: the lifespan builds the terminal and its gateway, connects and starts publishing.

    `clock` overrides the simulated terminal's configured clock (tests move time by hand).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mt5 = build_components(
            settings, publish=app.state.bus.publish_threadsafe, clock=clock, storage=app.state.storage
        )
        await mt5.gateway.start()
        await mt5.settle_claims()
        app.state.mt5 = mt5
        try:
            yield
        finally:
            await mt5.gateway.aclose()
            mt5.engine.dispose()

    return create_service_app(
        "mt5",
        settings,
        routers=routers,
        lifespan=lifespan,
        health_checks=_health_checks,
        description=DESCRIPTION,
    )
