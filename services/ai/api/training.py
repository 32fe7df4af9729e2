"""Training jobs: start, status (with the result), listing, cancel."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from services.ai.api.deps import LauncherDep
from services.ai.core.market import BarWindow
from services.ai.schemas import JobRead, TrainRequest
from shared.errors import InvalidInputError
from shared.market.bar_body import body_schema, json_body
from shared.market.bar_input import PRICE_COLUMNS
from shared.utils import parse_time_s

TrainBody = Annotated[TrainRequest, Depends(json_body(TrainRequest))]

router = APIRouter(tags=["training"])


@router.post(
    "/models/train",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=body_schema(TrainRequest),
)
async def train_model(request: TrainBody, launcher: LauncherDep) -> dict[str, Any]:
    """Validate the request, fetch its bars, and queue the training job; returns the job at once."""
    timeframe = request.timeframe
    if request.bars is not None:
        bars = await asyncio.to_thread(request.bars.checked, positive=PRICE_COLUMNS)
        return await launcher.start(request.spec(), inline=bars, symbol=request.symbol, timeframe=timeframe)
    assert request.symbol and timeframe and request.from_ is not None and request.to is not None  # schema
    from_s, to_s = parse_time_s(request.from_, field="from"), parse_time_s(request.to, field="to")
    if from_s >= to_s:
        raise InvalidInputError(
            f"empty range: from ({from_s}) must be before to ({to_s})",
            code="empty_range",
            details={"field": "to"},
        )
    return await launcher.start(request.spec(), window=BarWindow(request.symbol, timeframe, from_s, to_s))


@router.get("/models/jobs", response_model=list[JobRead])
def list_jobs(
    launcher: LauncherDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Training jobs, newest first."""
    return launcher.list(limit)


@router.get("/models/jobs/{job_id}", response_model=JobRead)
def job_status(job_id: str, launcher: LauncherDep) -> dict[str, Any]:
    """State, progress and, once completed, the registered model's id and headline metrics."""
    return launcher.get(job_id)


@router.post("/models/jobs/{job_id}/cancel", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
def cancel_job(job_id: str, launcher: LauncherDep) -> dict[str, Any]:
    """Ask a running job to stop (checked between folds and epochs); nothing is registered."""
    return launcher.cancel(job_id)
