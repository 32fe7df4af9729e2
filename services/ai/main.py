"""The ai service's app: Feature pipelines, model training, model registry, prediction."""

from fastapi import FastAPI

from shared.config import PlatformSettings
from shared.service_app import create_service_app


def create_app(settings: PlatformSettings) -> FastAPI:
    return create_service_app(
        "ai", settings, description="Feature pipelines, model training, model registry, prediction."
    )
