"""The strategy service's app: live strategy instances on closed candles, risk manager, order placement."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from services.strategy.api import routers
from services.strategy.core.instances import InstanceService
from services.strategy.core.lockstep import Lockstep
from services.strategy.core.remote import Mt5Broker, Mt5ClockHolds
from services.strategy.core.store import InstanceStore
from services.strategy.settings import StrategySettings
from shared.config import resolve_internal_token
from shared.contracts.data import DataClient
from shared.contracts.mt5 import Mt5Client
from shared.db import engine_from_url, sqlite_engine
from shared.event_client import EventSubscriber, events_url
from shared.service_app import INTERNAL_TOKEN_HEADER, create_service_app
from shared.trading.registry import StrategyRegistry, load_strategy_folder
from shared.trading.sizing import compile_sizing
from shared.utils import get_timestamp_ms

DATABASE_FILE = "strategy.db"
DESCRIPTION = "Live strategy instances on closed candles, risk manager, order placement, position tracking."

log = logging.getLogger(__name__)


def build_registry(settings: StrategySettings) -> StrategyRegistry:
    """The built-in strategies plus those in the configured folders."""
    registry = StrategyRegistry.with_builtins()
    for folder in settings.strategy_folders:
        for cls in load_strategy_folder(folder):
            registry.register(cls)
    return registry


def load_trading_path() -> None:
    """Import TA-Lib (with the pandas it loads) and numba, and compile the sizing (or load it from numba's
    cache): about a second that the first candle and the first order would otherwise pay."""
    import talib  # noqa: F401

    compile_sizing()


async def warm_up_trading() -> None:
    """`load_trading_path` in a thread; a failure is logged, and happens again where the candle needs it."""
    try:
        await asyncio.to_thread(load_trading_path)
    except Exception:
        log.exception("warming up the trading path failed")


def build_engine(settings: StrategySettings) -> Engine:
    url = settings.database_url
    return engine_from_url(url) if url else sqlite_engine(settings.data_dir / DATABASE_FILE)


def create_app(settings: StrategySettings) -> FastAPI:
    """The app; its lifespan builds the store, the peers' clients and the instances, resumes the running
    ones and follows the data service's closed candles."""
    section = settings.strategy

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Every candle costs each instance a few calls to the mt5 service: a log line each would drown the
        # log (and cost time on the order path), so the HTTP client only reports problems.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        # The trading path loads in the background, so the service is healthy without waiting for it.
        # Nothing runs without it: a candle or order that comes first waits on Python's import lock (or
        # numba's compiler lock) for the warm-up to finish.
        warm_up = asyncio.create_task(warm_up_trading(), name="trading warm-up")
        engine = build_engine(settings)
        mt5 = Mt5Client.from_settings(settings, timeout_s=section.mt5_timeout_s)
        data = DataClient.from_settings(settings, timeout_s=section.data_timeout_s)
        store = InstanceStore(
            engine, magic_base=section.magic_base, now_ms=get_timestamp_ms, signals_kept=section.signals_kept
        )
        instances = InstanceService(
            store,
            build_registry(settings),
            broker=Mt5Broker(mt5),
            bars=data,
            publish=app.state.bus.publish,
            symbols=settings.trading.symbols,
            section=section,
            now_ms=get_timestamp_ms,
            lockstep=(
                Lockstep(Mt5ClockHolds(mt5), retry_s=section.reconnect_max_s)
                if section.replay_lockstep
                else None
            ),
        )
        app.state.instances = instances
        subscriber = EventSubscriber(
            events_url(settings.service("data").base_url, types="candle.closed"),
            headers={INTERNAL_TOKEN_HEADER: resolve_internal_token(settings)},
            on_event=instances.on_event,
            on_connect=instances.on_connect,
            initial_backoff_s=section.reconnect_initial_s,
            max_backoff_s=section.reconnect_max_s,
        )
        app.state.candle_subscriber = subscriber
        await instances.resume()
        subscriber.start()
        try:
            yield
        finally:
            await warm_up  # a thread cannot be cancelled: let it finish before the interpreter does
            await subscriber.aclose()
            await instances.aclose()
            await mt5.aclose()
            await data.aclose()
            store.close()
            engine.dispose()

    async def health(app: FastAPI) -> dict[str, Any]:
        subscriber: EventSubscriber | None = getattr(app.state, "candle_subscriber", None)
        instances: InstanceService | None = getattr(app.state, "instances", None)
        # Informational: without the data service no candle arrives, but the service itself is healthy.
        return {
            "candles": {"following_data_events": bool(subscriber and subscriber.connected)},
            "instances": {"running": len(instances.running) if instances else 0},
        }

    return create_service_app(
        "strategy",
        settings,
        routers=routers,
        lifespan=lifespan,
        health_checks=health,
        description=DESCRIPTION,
    )
