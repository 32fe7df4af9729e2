"""Typed dependencies: the core objects built in the lifespan, handed to routes."""

from typing import Annotated

from fastapi import Depends, Request

from services.backtesting.core.launcher import RunLauncher
from services.backtesting.core.runs import RunCatalog
from shared.trading.registry import StrategyRegistry


async def get_launcher(request: Request) -> RunLauncher:
    return request.app.state.launcher


async def get_catalog(request: Request) -> RunCatalog:
    return request.app.state.catalog


async def get_registry(request: Request) -> StrategyRegistry:
    return request.app.state.registry


LauncherDep = Annotated[RunLauncher, Depends(get_launcher)]
CatalogDep = Annotated[RunCatalog, Depends(get_catalog)]
RegistryDep = Annotated[StrategyRegistry, Depends(get_registry)]
