"""The data service's app: Tick and OHLC storage, on-the-fly collection, tick→OHLC conversion, gap fill, completeness, CSV import."""

from fastapi import FastAPI

from shared.config import PlatformSettings
from shared.service_app import create_service_app


def create_app(settings: PlatformSettings) -> FastAPI:
    return create_service_app(
        "data",
        settings,
        description="Tick and OHLC storage, on-the-fly collection, tick→OHLC conversion, gap fill, completeness, CSV import.",
    )
