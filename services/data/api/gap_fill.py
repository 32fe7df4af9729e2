"""Gap-fill jobs: `POST /gap-fill`, `GET /gap-fill`, `GET /gap-fill/{id}`, `POST /gap-fill/{id}/cancel`."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter

from services.data.api.deps import (
    GapFillRuntimeDep,
    JobsDep,
    MarketClockDep,
    SettingsDep,
    StoresDep,
    check_symbol,
)
from services.data.api.params import checked_range
from services.data.core.gap_fill import gap_fill_job
from services.data.schemas import GapFillCreate
from shared.errors import InvalidInputError, NotFoundError
from shared.market.clock import refuse_future

router = APIRouter(prefix="/gap-fill", tags=["gap fill"])
KIND = "gapfill"


@router.post("", status_code=202)
async def create_gap_fill(
    body: GapFillCreate,
    settings: SettingsDep,
    stores: StoresDep,
    jobs: JobsDep,
    runtime: GapFillRuntimeDep,
    market_clock: MarketClockDep,
) -> dict[str, Any]:
    """Start a job that fetches the missing bars (and ticks, if asked) of the range; returns at once."""
    symbols = list(
        dict.fromkeys(check_symbol(s, settings, f"body.symbols.{i}") for i, s in enumerate(body.symbols))
    )
    timeframes = list(dict.fromkeys(body.timeframes))
    not_stored = [tf for tf in timeframes if tf not in stores.bars.stored_timeframes]
    if not_stored:
        raise InvalidInputError(
            f"timeframes {', '.join(not_stored)} are not stored (stored: "
            f"{', '.join(stores.bars.stored_timeframes)})",
            code="unknown_timeframe",
            details={"field": "timeframes", "timeframes": not_stored},
        )
    from_s, end_s = checked_range(body.from_, body.to, settings.data.limits.max_range_days)
    refuse_future(market_clock.now_ms(), from_s)
    params = {
        "symbols": symbols,
        "timeframes": timeframes,
        "from": from_s,
        "to": end_s,
        "include_ticks": body.include_ticks,
    }
    return jobs.submit(KIND, params, partial(gap_fill_job, runtime))


@router.get("")
def list_gap_fills(jobs: JobsDep) -> list[dict[str, Any]]:
    """Gap-fill jobs, newest first."""
    return jobs.list(kind=KIND)


@router.get("/{job_id}")
def get_gap_fill(job_id: str, jobs: JobsDep) -> dict[str, Any]:
    """A job's state, progress and, when finished, its result (per series: missing, fetched, unfillable)."""
    return _own(jobs.get(job_id, with_result=True), job_id)


@router.post("/{job_id}/cancel")
def cancel_gap_fill(job_id: str, jobs: JobsDep) -> dict[str, Any]:
    """Ask a running job to stop after its current chunk (what it stored stays stored)."""
    _own(jobs.get(job_id), job_id)
    return jobs.cancel(job_id)


def _own(job: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Jobs of other kinds share the table; they are not gap fills."""
    if job["kind"] != KIND:
        raise NotFoundError(f"no gap-fill job {job_id!r}", code="unknown_job", details={"job_id": job_id})
    return job
