"""`GET /statistics`: rows per series, first/last times, ingest rate, database size, completeness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.data.api.deps import CollectorDep, StoresDep
from services.data.core.queries import statistics_document

router = APIRouter(tags=["statistics"])


@router.get("/statistics")
def get_statistics(stores: StoresDep, collector: CollectorDep) -> dict[str, Any]:
    """What is stored, how fast it grows, and how complete the recent bars are."""
    collection = collector.status()
    return {
        **statistics_document(stores),
        "ingest": {"running": collection["running"], "ticks_per_s": collection["ticks_per_s"]},
    }
