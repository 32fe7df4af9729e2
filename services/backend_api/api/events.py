"""`/api/event-types`: the event catalog, so the dashboard's filters offer every type the platform publishes."""

from __future__ import annotations

from fastapi import APIRouter

from services.backend_api.schemas import EventType
from shared.event_catalog import CATALOG

router = APIRouter(prefix="/api", tags=["events"])


@router.get("/event-types", response_model=list[EventType])
async def event_types() -> list[EventType]:
    return [
        EventType(type=s.name, publishers=s.publishers, description=s.description) for s in CATALOG.values()
    ]
