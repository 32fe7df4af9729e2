"""Parameter optimisation and walk-forward analysis jobs: start, status with result, cancel, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from services.backtesting.api.deps import CatalogDep, LauncherDep
from services.backtesting.schemas import JobRead, JobWithResult, OptimizeRequest, WalkForwardRequest
from shared.market.bar_body import body_schema, json_body
from shared.service_app import FastJSONResponse

MaxPoints = Annotated[int | None, Query(ge=2, description="thin the equity curve to about this many points")]
Limit = Annotated[int, Query(ge=1, le=1000)]

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


@router.get("/optimizations", response_model=list[JobRead], tags=["optimize"])
def list_optimizations(catalog: CatalogDep, limit: Limit = 100) -> list[dict[str, Any]]:
    return catalog.list("optimization", limit)


@router.get(
    "/optimize/{job_id}",
    response_class=FastJSONResponse,
    responses={200: {"model": JobWithResult}},
    tags=["optimize"],
)
def optimization(job_id: str, catalog: CatalogDep) -> FastJSONResponse:
    """State and progress; the result (top-N, counts, heat map) once completed."""
    return FastJSONResponse(catalog.with_result("optimization", job_id, None))


@router.post(
    "/optimize/{job_id}/cancel",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["optimize"],
)
def cancel_optimization(job_id: str, catalog: CatalogDep) -> dict[str, Any]:
    return catalog.cancel("optimization", job_id)


@router.delete("/optimize/{job_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["optimize"])
def delete_optimization(job_id: str, catalog: CatalogDep) -> None:
    catalog.delete("optimization", job_id)


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


@router.get("/walk-forwards", response_model=list[JobRead], tags=["walk-forward"])
def list_walk_forwards(catalog: CatalogDep, limit: Limit = 100) -> list[dict[str, Any]]:
    return catalog.list("walk_forward", limit)


@router.get(
    "/walk-forward/{job_id}",
    response_class=FastJSONResponse,
    responses={200: {"model": JobWithResult}},
    tags=["walk-forward"],
)
def walk_forward(job_id: str, catalog: CatalogDep, max_points: MaxPoints = None) -> FastJSONResponse:
    """State and progress; once completed each window's parameters and OOS metrics, and the stitched run."""
    return FastJSONResponse(catalog.with_result("walk_forward", job_id, max_points))


@router.post(
    "/walk-forward/{job_id}/cancel",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["walk-forward"],
)
def cancel_walk_forward(job_id: str, catalog: CatalogDep) -> dict[str, Any]:
    return catalog.cancel("walk_forward", job_id)


@router.delete("/walk-forward/{job_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["walk-forward"])
def delete_walk_forward(job_id: str, catalog: CatalogDep) -> None:
    catalog.delete("walk_forward", job_id)
