"""Training jobs: start here; status (with the result), listing and cancel from the shared job routes."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from services.ai.api.deps import LauncherDep, get_catalog
from services.ai.core.jobs import KIND
from services.ai.core.market import BarWindow
from services.ai.schemas import TrainRequest
from shared.errors import InvalidInputError
from shared.job_routes import job_router
from shared.jobs import JobRead
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


router.include_router(
    job_router(KIND, get_catalog, collection="/models/jobs", item="/models/jobs/{job_id}", tags=["training"])
)
