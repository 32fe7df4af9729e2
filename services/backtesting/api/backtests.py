"""Backtest jobs: start and defaults here; status, result, listing, cancel and delete from the shared
job routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from services.backtesting.api.deps import LauncherDep, get_catalog, thinned_equity
from services.backtesting.core.requests import BacktestRequest
from services.backtesting.schemas import BacktestListItem, RunDefaults
from shared.job_routes import job_router
from shared.jobs import JobRead
from shared.market.bar_body import body_schema, json_body

StartBody = Annotated[BacktestRequest, Depends(json_body(BacktestRequest))]

router = APIRouter(tags=["backtests"])


@router.post(
    "/backtest/start",
    response_model=JobRead,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=body_schema(BacktestRequest),
)
async def start_backtest(request: StartBody, launcher: LauncherDep) -> dict[str, Any]:
    """Validate the request, fetch its bars, and queue the backtest; returns the job at once."""
    return await launcher.start_backtest(request)


@router.get("/backtest/defaults", response_model=RunDefaults)
async def run_defaults(
    launcher: LauncherDep,
    symbol: Annotated[str | None, Query(min_length=1, max_length=32, description="add its facts")] = None,
) -> dict[str, Any]:
    """What a run request's omitted initial_balance, leverage, sizing and costs become (the dashboard's
    form starts from these): leverage from the mt5 service's account when it can be read."""
    return await launcher.run_defaults(symbol)


router.include_router(
    job_router(
        "backtest",
        get_catalog,
        collection="/backtests",
        item="/backtest/{job_id}",
        tags=["backtests"],
        status_suffix="/status",
        result=True,
        delete=True,
        list_model=BacktestListItem,
        shape=thinned_equity,
    )
)
