"""Typed dependencies: the core objects built in the lifespan, handed to routes."""

from functools import partial
from typing import Annotated

from fastapi import Depends, Query, Request

from services.backtesting.core.launcher import RunLauncher
from services.backtesting.core.portfolio_launcher import PortfolioLauncher
from services.backtesting.core.report_html import ReportLimits
from services.backtesting.core.runs import RunCatalog, thin_equity
from shared.jobs import ResultShaper
from shared.trading.registry import StrategyRegistry


async def get_launcher(request: Request) -> RunLauncher:
    return request.app.state.launcher


async def get_portfolio_launcher(request: Request) -> PortfolioLauncher:
    return request.app.state.launcher


async def get_catalog(request: Request) -> RunCatalog:
    return request.app.state.catalog


async def get_registry(request: Request) -> StrategyRegistry:
    return request.app.state.registry


async def get_report_limits(request: Request) -> ReportLimits:
    return request.app.state.report_limits


LauncherDep = Annotated[RunLauncher, Depends(get_launcher)]
PortfolioLauncherDep = Annotated[PortfolioLauncher, Depends(get_portfolio_launcher)]
CatalogDep = Annotated[RunCatalog, Depends(get_catalog)]
RegistryDep = Annotated[StrategyRegistry, Depends(get_registry)]
ReportLimitsDep = Annotated[ReportLimits, Depends(get_report_limits)]


def thinned_equity(
    catalog: CatalogDep,
    max_points: Annotated[
        int | None, Query(ge=2, description="thin the equity curve to about this many points")
    ] = None,
) -> ResultShaper:
    """How a run's result is sent: its equity curve thinned to `max_points` (default
    backtesting.default_equity_points)."""
    return partial(thin_equity, max_points=max_points or catalog.default_points)
