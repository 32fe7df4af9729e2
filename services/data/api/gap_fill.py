"""Gap-fill jobs, the example to copy for a job kind: `POST /gap-fill` turns the body into the typed job
spec and hands it to the core launcher (`start_gap_fill`, which validates and submits); the read routes
(`GET /gap-fill`, `GET /gap-fill/{id}`, `POST /gap-fill/{id}/cancel`) come from the shared job router."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status

from services.data.api.deps import (
    GapFillRuntimeDep,
    JobsDep,
    MarketClockDep,
    SettingsDep,
    StoresDep,
    check_symbol,
    get_job_catalog,
)
from services.data.api.params import checked_range
from services.data.core.gap_fill import KIND, GapFillRequest, start_gap_fill
from services.data.schemas import GapFillCreate
from shared.job_routes import job_router
from shared.jobs import JobRead

router = APIRouter(tags=["gap fill"])


@router.post("/gap-fill", response_model=JobRead, status_code=status.HTTP_202_ACCEPTED)
async def create_gap_fill(
    body: GapFillCreate,
    settings: SettingsDep,
    stores: StoresDep,
    jobs: JobsDep,
    runtime: GapFillRuntimeDep,
    market_clock: MarketClockDep,
) -> dict[str, Any]:
    """Start a job that fetches the missing bars (and ticks, if asked) of the range; returns at once."""
    symbols = dict.fromkeys(
        check_symbol(s, settings, f"body.symbols.{i}") for i, s in enumerate(body.symbols)
    )
    from_s, end_s = checked_range(body.from_, body.to, settings.data.limits.max_range_days)
    request = GapFillRequest(
        symbols=tuple(symbols),
        timeframes=tuple(dict.fromkeys(body.timeframes)),
        from_s=from_s,
        to_s=end_s,
        include_ticks=body.include_ticks,
    )
    return start_gap_fill(
        request,
        jobs=jobs,
        runtime=runtime,
        stored_timeframes=stores.bars.stored_timeframes,
        market_now_ms=market_clock.now_ms(),
    )


router.include_router(
    job_router(KIND, get_job_catalog, collection="/gap-fill", item="/gap-fill/{job_id}", tags=["gap fill"])
)
