"""The data service's app: tick and OHLC storage, on-the-fly collection, tick→OHLC conversion, gap fill,
completeness, CSV import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from services.data.api import routers
from services.data.core.collection import Collector
from services.data.core.gap_fill import GapFillRuntime
from services.data.core.mt5_source import Mt5TickSource
from services.data.core.stores import open_stores
from services.data.core.worlds import (
    DataWorld,
    WorldFollower,
    last_world,
    remember_world,
    world_intent,
)
from services.data.settings import DataSettings
from shared.config import resolve_internal_token
from shared.contracts.mt5 import Mt5Client
from shared.event_catalog import ALERT
from shared.event_payloads import WorldChanged
from shared.jobs import JobManager
from shared.market.clock import MarketClock, read_market_clock
from shared.market.world import world_dir
from shared.service_app import create_service_app


def gap_fill_runtime(settings: DataSettings, storage_root: Path | None = None) -> GapFillRuntime:
    """What gap-fill worker processes need, taken from the settings once (`storage_root`: the world's)."""
    section = settings.data.gap_fill
    return GapFillRuntime(
        storage_root=storage_root or settings.storage_root,
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
    """Collection state in /health: degraded while a collector is stalled (the terminal answers, the open
    market moves on, no tick arrives); healthy even while the mt5 service is down (that is an error)."""
    status = app.state.collector.status()
    errors = {s["symbol"]: s["error"] for s in status["symbols"] if s["error"]}
    stalled = {s["symbol"]: s["reason"] for s in status["symbols"] if s["stalled"]}
    collection = {
        "ok": not stalled,
        "running": status["running"],
        "world": app.state.world.name,
        "errors": errors,
        "stalled": stalled,
    }
    return {"collection": collection}


def create_app(settings: DataSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Collection polls the mt5 service ten times a second per symbol: one log line each would drown
        # the log, so the HTTP client only reports problems.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        root = settings.storage_root
        root.mkdir(parents=True, exist_ok=True)
        # A short timeout: a hung mt5 service must not hold up a graceful stop for long.
        client = Mt5Client.from_settings(settings, timeout_s=10.0)
        source = Mt5TickSource(client)
        market_clock = MarketClock()
        bus = app.state.bus

        async def enter(name: str, previous: Path | None, *, collect: bool = True) -> DataWorld:
            """Open a world's stores and, when the mt5 service has confirmed it, resume its collection."""
            world_root = world_dir(root, name)
            world_root.mkdir(parents=True, exist_ok=True)
            stores = open_stores(
                world_root,
                database_url=settings.database_url,
                granularity=settings.database.tick_partitioning,
                timeframes=settings.trading.timeframes,
            )
            collector = Collector(
                stores,
                source,
                settings.data.collection,
                bus.publish,
                world_intent(root, name, previous),
                app.state.storage,
                market_ms=market_clock.now_ms,
            )
            world = DataWorld(name, world_root, stores, collector)
            app.state.world, app.state.stores, app.state.collector = world, stores, collector
            app.state.gap_fill_runtime = gap_fill_runtime(settings, world_root)
            remember_world(root, name)
            if collect:
                await resume_collection(collector)
            return world

        async def resume_collection(collector: Collector) -> None:
            if not await collector.resume() and settings.data.collection.auto_start:
                await collector.start(settings.collection_symbols)

        async def switch(name: str) -> None:
            """Leave the current world (its collection intent kept) for `name`."""
            old: DataWorld = app.state.world
            await old.collector.aclose()
            await enter(name, old.collector.intent_path)
            old.stores.close()
            bus.publish(ALERT, WorldChanged(code="market_world_changed", from_=old.name, to=name))

        reading = await read_market_clock(client)
        if reading is not None:
            market_clock.update(reading)
        # Without the mt5 service's word, the last world serves reads, but nothing is collected into it
        # until the world is confirmed: the terminal may be on another clock now.
        await enter(
            reading.world if reading is not None else last_world(root), None, collect=reading is not None
        )
        follower = WorldFollower(
            client,
            market_clock,
            lambda: app.state.world.name,
            switch,
            settings.data.market.clock_check_interval_s,
            confirm=None if reading is not None else lambda: resume_collection(app.state.collector),
        )
        follower.start()
        jobs = JobManager(root / "jobs.sqlite", bus, workers=settings.data.gap_fill.workers)
        jobs.start()
        app.state.jobs = jobs
        app.state.market_clock = market_clock
        try:
            yield
        finally:
            await follower.aclose()
            await app.state.collector.aclose()
            await jobs.aclose()
            await client.aclose()
            app.state.stores.close()

    return create_service_app(
        "data",
        settings,
        routers=routers,
        lifespan=lifespan,
        health_checks=health,
        description="Tick and OHLC storage, on-the-fly collection, tick→OHLC conversion, gap fill, "
        "completeness, CSV import.",
    )
