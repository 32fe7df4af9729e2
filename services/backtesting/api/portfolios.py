"""Portfolio jobs (several legs on one account): start here; status with result, listing, cancel and delete
from the shared job routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from services.backtesting.api.deps import PortfolioLauncherDep, get_catalog
from services.backtesting.core.requests import PortfolioRequest
from services.backtesting.core.runs import RunCatalog, thin_portfolio
from services.backtesting.schemas import BacktestListItem
from shared.job_routes import job_router
from shared.jobs import JobRead, ResultShaper
from shared.market.bar_body import body_schema, json_body

StartBody = Annotated[PortfolioRequest, Depends(json_body(PortfolioRequest))]

router = APIRouter(tags=["portfolios"])


@router.post(
    "/portfolio/start",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=body_schema(PortfolioRequest),
)
async def start_portfolio(request: StartBody, launcher: PortfolioLauncherDep) -> dict[str, Any]:
    """Validate every leg, fetch their bars, and queue the portfolio; returns the job at once."""
    return await launcher.start_portfolio(request)


def _thinned(
    catalog: Annotated[RunCatalog, Depends(get_catalog)],
    max_points: Annotated[
        int | None, Query(ge=2, description="thin every equity curve to about this many points")
    ] = None,
) -> ResultShaper:
    """Every curve of the result (combined, legs, symbols, strategies) thinned to `max_points`."""
    points = max_points or catalog.default_points
    return lambda result: thin_portfolio(result, points)


router.include_router(
    job_router(
        "portfolio",
        get_catalog,
        collection="/portfolios",
        item="/portfolio/{job_id}",
        tags=["portfolios"],
        status_suffix="/status",
        result=True,
        delete=True,
        list_model=BacktestListItem,
        shape=_thinned,
    )
)
