"""The backtesting service's app: Backtest jobs, parameter optimisation, walk-forward analysis, result storage."""

from fastapi import FastAPI

from shared.config import PlatformSettings
from shared.service_app import create_service_app


def create_app(settings: PlatformSettings) -> FastAPI:
    return create_service_app(
        "backtesting",
        settings,
        description="Backtest jobs, parameter optimisation, walk-forward analysis, result storage.",
    )
