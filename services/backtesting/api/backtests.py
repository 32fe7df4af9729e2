"""Backtest jobs: start, status, result, listing, cancel, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from services.backtesting.api.deps import CatalogDep, LauncherDep
from services.backtesting.schemas import BacktestListItem, BacktestRequest, JobRead, RunDefaults
from shared.market.bar_body import body_schema, json_body
from shared.service_app import FastJSONResponse

KIND = "backtest"
MaxPoints = Annotated[int | None, Query(ge=2, description="thin the equity curve to about this many points")]

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


@router.get("/backtest/{job_id}/status", response_model=JobRead)
def backtest_status(job_id: str, catalog: CatalogDep) -> dict[str, Any]:
    return catalog.get(KIND, job_id)


@router.get("/backtest/{job_id}/result", response_class=FastJSONResponse)
def backtest_result(job_id: str, catalog: CatalogDep, max_points: MaxPoints = None) -> FastJSONResponse:
    """Metrics, trades (column-oriented) and the equity and drawdown curve of a completed backtest."""
    return FastJSONResponse(catalog.result(KIND, job_id, max_points))


@router.get("/backtests", response_model=list[BacktestListItem])
def list_backtests(
    catalog: CatalogDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Backtests, newest first, with headline metrics of the completed ones."""
    return catalog.list(KIND, limit)


@router.post("/backtest/{job_id}/cancel", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
def cancel_backtest(job_id: str, catalog: CatalogDep) -> dict[str, Any]:
    return catalog.cancel(KIND, job_id)


@router.delete("/backtest/{job_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_backtest(job_id: str, catalog: CatalogDep) -> None:
    catalog.delete(KIND, job_id)
