"""Typed dependencies: the core objects built in the lifespan, handed to routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.ai.core.launcher import TrainingLauncher
from services.ai.core.predictor import ModelCache, Predictor
from services.ai.core.registry import ModelRegistry
from shared.jobs import JobCatalog


async def get_launcher(request: Request) -> TrainingLauncher:
    return request.app.state.launcher


async def get_catalog(request: Request) -> JobCatalog:
    return request.app.state.catalog


async def get_registry(request: Request) -> ModelRegistry:
    return request.app.state.registry


async def get_cache(request: Request) -> ModelCache:
    return request.app.state.model_cache


async def get_predictor(request: Request) -> Predictor:
    return request.app.state.predictor


LauncherDep = Annotated[TrainingLauncher, Depends(get_launcher)]
RegistryDep = Annotated[ModelRegistry, Depends(get_registry)]
CacheDep = Annotated[ModelCache, Depends(get_cache)]
PredictorDep = Annotated[Predictor, Depends(get_predictor)]
