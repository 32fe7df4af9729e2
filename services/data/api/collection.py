"""On-the-fly collection: `POST /collection/start`, `POST /collection/stop`, `GET /collection/status`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.data.api.deps import CollectorDep, SettingsDep, check_symbol
from services.data.schemas import CollectionRead, CollectionStart

router = APIRouter(prefix="/collection", tags=["collection"])


@router.post("/start", response_model=CollectionRead)
async def start_collection(
    collector: CollectorDep, settings: SettingsDep, body: CollectionStart | None = None
) -> dict[str, Any]:
    """Start collecting the given symbols (default: the configured ones); resumes after restarts."""
    given = body.symbols if body is not None and body.symbols else None
    symbols = (
        [check_symbol(s, settings, f"body.symbols.{i}") for i, s in enumerate(given)]
        if given
        else settings.collection_symbols
    )
    return await collector.start(list(dict.fromkeys(symbols)))


@router.post("/stop", response_model=CollectionRead)
async def stop_collection(collector: CollectorDep) -> dict[str, Any]:
    """Stop collecting; each symbol's pending batch is written first."""
    return await collector.stop()


@router.get("/status", response_model=CollectionRead)
async def collection_status(collector: CollectorDep) -> dict[str, Any]:
    """Per symbol: running, last tick time, lag behind the market's clock, ticks/s, ticks stored."""
    return collector.status()
