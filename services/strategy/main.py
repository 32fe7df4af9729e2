"""The strategy service's app: Live strategy instances on closed candles, risk manager, order placement, position tracking."""

from fastapi import FastAPI

from shared.config import PlatformSettings
from shared.service_app import create_service_app


def create_app(settings: PlatformSettings) -> FastAPI:
    return create_service_app(
        "strategy",
        settings,
        description="Live strategy instances on closed candles, risk manager, order placement, position tracking.",
    )
