"""The pattern service's app: TA-Lib indicators and candlestick/chart pattern detection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.pattern.api import routers
from services.pattern.core.bars_source import BarReader
from services.pattern.core.catalog import Catalog
from services.pattern.core.live import LiveDetector
from services.pattern.core.spec import parse_specs
from services.pattern.settings import PatternSettings
from shared.config import resolve_internal_token
from shared.contracts.data import DataClient
from shared.event_client import EventSubscriber, events_url
from shared.service_app import INTERNAL_TOKEN_HEADER, create_service_app

NAME = "pattern"


def create_app(settings: PatternSettings) -> FastAPI:
    """The app; its lifespan loads the TA-Lib catalogs, the data client and the live detector."""
    token = resolve_internal_token(settings)
    section = settings.pattern

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        data_url = settings.service("data").base_url
        source = BarReader(DataClient.from_settings(settings, timeout_s=section.data_timeout_s))
        app.state.indicators = Catalog.indicators()
        app.state.candlesticks = candlesticks = Catalog.candlesticks()
        app.state.bars_source = source
        subscriber = None
        if section.live.enabled:
            names = section.live.patterns or list(candlesticks)
            symbols = section.live.symbols or settings.trading.symbols
            detector = LiveDetector(
                parse_specs(",".join(names), candlesticks, max_specs=len(candlesticks)),
                source,
                app.state.bus.publish,
                symbols=symbols,
                timeframes=section.live.timeframes,
            )
            subscriber = EventSubscriber(
                events_url(data_url, types="candle.closed", symbols=",".join(symbols)),
                headers={INTERNAL_TOKEN_HEADER: token},
                on_event=detector.on_event,
                on_connect=detector.reset,
                initial_backoff_s=section.reconnect_initial_s,
                max_backoff_s=section.reconnect_max_s,
            )
            subscriber.start()
        app.state.live_subscriber = subscriber
        try:
            yield
        finally:
            if subscriber is not None:
                await subscriber.aclose()
            await source.aclose()

    async def health(app: FastAPI) -> dict[str, Any]:
        subscriber: EventSubscriber | None = app.state.live_subscriber
        live = {"enabled": subscriber is not None}
        if subscriber is not None:
            # Informational: the data service being down degrades live detection, not this service.
            live["following_data_events"] = subscriber.connected
        return {"live": live}

    return create_service_app(
        NAME,
        settings,
        routers=routers,
        lifespan=lifespan,
        health_checks=health,
        description="TA-Lib indicators, candlestick patterns, chart analysis and live pattern detection.",
    )
