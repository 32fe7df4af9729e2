"""Typed dependencies of the data service's routers: core objects from app.state, checked path values."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.data.core.collection import Collector
from services.data.core.gap_fill import GapFillRuntime
from services.data.core.stores import DataStores
from services.data.settings import DataSettings
from shared.disk_full import StorageState
from shared.events import EventBus
from shared.jobs import JobCatalog, JobManager
from shared.market.clock import MarketClock
from shared.market.names import SymbolName, TimeframeName, unknown_symbol_error


async def get_settings(request: Request) -> DataSettings:
    return request.app.state.settings


async def get_stores(request: Request) -> DataStores:
    return request.app.state.stores


async def get_collector(request: Request) -> Collector:
    return request.app.state.collector


async def get_jobs(request: Request) -> JobManager:
    return request.app.state.jobs


async def get_job_catalog(request: Request) -> JobCatalog:
    return JobCatalog(request.app.state.jobs)


async def get_bus(request: Request) -> EventBus:
    return request.app.state.bus


async def get_storage(request: Request) -> StorageState:
    return request.app.state.storage


async def get_gap_fill_runtime(request: Request) -> GapFillRuntime:
    return request.app.state.gap_fill_runtime


async def get_market_clock(request: Request) -> MarketClock:
    return request.app.state.market_clock


SettingsDep = Annotated[DataSettings, Depends(get_settings)]
StoresDep = Annotated[DataStores, Depends(get_stores)]
CollectorDep = Annotated[Collector, Depends(get_collector)]
JobsDep = Annotated[JobManager, Depends(get_jobs)]
BusDep = Annotated[EventBus, Depends(get_bus)]
StorageDep = Annotated[StorageState, Depends(get_storage)]
GapFillRuntimeDep = Annotated[GapFillRuntime, Depends(get_gap_fill_runtime)]
MarketClockDep = Annotated[MarketClock, Depends(get_market_clock)]


def configured_symbols(settings: DataSettings) -> list[str]:
    """Symbols the service serves: the trading symbols and any extra collection symbols."""
    return list(dict.fromkeys([*settings.trading.symbols, *settings.collection_symbols]))


def check_symbol(symbol: str, settings: DataSettings, field: str) -> str:
    """The symbol in upper case, or a 404 `unknown_symbol` unless the service serves it."""
    canonical = symbol.strip().upper()
    if canonical not in configured_symbols(settings):
        raise unknown_symbol_error(symbol, configured_symbols(settings), field)
    return canonical


async def _symbol(symbol: SymbolName, settings: SettingsDep) -> str:
    return check_symbol(symbol, settings, "path.symbol")


SymbolDep = Annotated[str, Depends(_symbol)]
TimeframeDep = TimeframeName
