"""The data service's app: tick and OHLC storage, on-the-fly collection, tick→OHLC conversion, gap fill,
completeness, CSV import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.data.api import ROUTERS
from services.data.core.collection import CollectionIntent, Collector
from services.data.core.gap_fill import GapFillRuntime
from services.data.core.mt5_source import Mt5TickSource
from services.data.core.stores import open_stores
from services.data.settings import DataSettings
from shared.clients import ServiceClient
from shared.config import resolve_internal_token
from shared.jobs import JobManager
from shared.service_app import create_service_app


def gap_fill_runtime(settings: DataSettings) -> GapFillRuntime:
    """What gap-fill worker processes need, taken from the settings once."""
    section = settings.data.gap_fill
    return GapFillRuntime(
        storage_root=settings.storage_root,
        database_url=settings.database_url,
        granularity=settings.database.tick_partitioning,
        stored_timeframes=tuple(settings.trading.timeframes),
        mt5_url=settings.service("mt5").base_url,
        token=resolve_internal_token(settings),
        chunk_bars=section.chunk_bars,
        tick_chunk_s=section.tick_chunk_s,
        timeout_s=section.request_timeout_s,
    )


async def health(app: FastAPI) -> dict[str, Any]:
    """Collection state in /health; the service is healthy even while the mt5 service is down."""
    status = app.state.collector.status()
    errors = {s["symbol"]: s["error"] for s in status["symbols"] if s["error"]}
    return {"collection": {"ok": True, "running": status["running"], "errors": errors}}


def create_app(settings: DataSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Collection polls the mt5 service ten times a second per symbol: one log line each would drown
        # the log, so the HTTP client only reports problems.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        root = settings.storage_root
        root.mkdir(parents=True, exist_ok=True)
        stores = open_stores(
            root,
            database_url=settings.database_url,
            granularity=settings.database.tick_partitioning,
            timeframes=settings.trading.timeframes,
        )
        # A short timeout: a hung mt5 service must not hold up a graceful stop for long.
        client = ServiceClient(settings, "mt5", timeout_s=10.0)
        bus = app.state.bus
        collector = Collector(
            stores,
            Mt5TickSource(client),
            settings.data.collection,
            bus.publish,
            CollectionIntent(root / "collection.json"),
            app.state.storage,
        )
        jobs = JobManager(root / "jobs.sqlite", bus, workers=settings.data.gap_fill.workers)
        jobs.start()
        app.state.stores = stores
        app.state.collector = collector
        app.state.jobs = jobs
        app.state.gap_fill_runtime = gap_fill_runtime(settings)
        if not await collector.resume() and settings.data.collection.auto_start:
            await collector.start(settings.collection_symbols)
        try:
            yield
        finally:
            await collector.aclose()
            await jobs.aclose()
            await client.aclose()
            stores.close()

    return create_service_app(
        "data",
        settings,
        routers=ROUTERS,
        lifespan=lifespan,
        health_checks=health,
        description="Tick and OHLC storage, on-the-fly collection, tick→OHLC conversion, gap fill, "
        "completeness, CSV import.",
    )
