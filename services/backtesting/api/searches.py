"""Parameter optimisation and walk-forward analysis jobs: start here; status with result, listing, cancel
and delete from the shared job routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from services.backtesting.api.deps import LauncherDep, get_catalog, thinned_equity
from services.backtesting.core.requests import OptimizeRequest, WalkForwardRequest
from shared.job_routes import job_router
from shared.jobs import JobRead
from shared.market.bar_body import body_schema, json_body

OptimizeBody = Annotated[OptimizeRequest, Depends(json_body(OptimizeRequest))]
WalkForwardBody = Annotated[WalkForwardRequest, Depends(json_body(WalkForwardRequest))]

router = APIRouter()


@router.post(
    "/optimize",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["optimize"],
    openapi_extra=body_schema(OptimizeRequest),
)
async def start_optimization(request: OptimizeBody, launcher: LauncherDep) -> dict[str, Any]:
    """Queue a grid or random search; its result ranks the top combinations and fills a heat-map table."""
    return await launcher.start_optimization(request)


@router.post(
    "/walk-forward",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["walk-forward"],
    openapi_extra=body_schema(WalkForwardRequest),
)
async def start_walk_forward(request: WalkForwardBody, launcher: LauncherDep) -> dict[str, Any]:
    """Queue a walk-forward analysis: optimise in-sample, trade out-of-sample, window by window."""
    return await launcher.start_walk_forward(request)


router.include_router(
    job_router(
        "optimization",
        get_catalog,
        collection="/optimizations",
        item="/optimize/{job_id}",
        tags=["optimize"],
        delete=True,
    )
)
router.include_router(
    job_router(
        "walk_forward",
        get_catalog,
        collection="/walk-forwards",
        item="/walk-forward/{job_id}",
        tags=["walk-forward"],
        delete=True,
        shape=thinned_equity,
    )
)
