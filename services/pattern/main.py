"""The pattern service's app: TA-Lib indicators and candlestick/chart pattern detection."""

from fastapi import FastAPI

from shared.config import PlatformSettings
from shared.service_app import create_service_app


def create_app(settings: PlatformSettings) -> FastAPI:
    return create_service_app(
        "pattern", settings, description="TA-Lib indicators and candlestick/chart pattern detection."
    )
