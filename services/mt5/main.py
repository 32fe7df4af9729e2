"""The mt5 service's app: The terminal gateway: simulated MT5 terminal with a paper broker, or a real terminal; symbols, history, orders, positions."""

from fastapi import FastAPI

from shared.config import PlatformSettings
from shared.service_app import create_service_app


def create_app(settings: PlatformSettings) -> FastAPI:
    return create_service_app(
        "mt5",
        settings,
        description="The terminal gateway: simulated MT5 terminal with a paper broker, or a real terminal; symbols, history, orders, positions.",
    )
