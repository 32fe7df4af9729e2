"""Reading stored ticks and bars: `GET /ticks/{symbol}`, `GET /ohlc/{symbol}/{timeframe}`.

Handlers are plain functions, so FastAPI runs the database read and the encoding in its thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.data.api.deps import SettingsDep, StoresDep, SymbolDep, TimeframeDep
from services.data.api.formats import series_response
from services.data.api.params import OutputFormat, check_order, optional_time_s
from services.data.core.queries import read_bars, read_ticks
from shared.utils import parse_time_ms

router = APIRouter(tags=["market data"])


@router.get("/ticks/{symbol}", response_model=None)
def get_ticks(
    symbol: SymbolDep,
    stores: StoresDep,
    settings: SettingsDep,
    from_: Annotated[str, Query(alias="from", description="ISO-8601 or epoch s/ms; inclusive")],
    to: Annotated[str | None, Query(description="ISO-8601 or epoch s/ms; inclusive")] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    format: OutputFormat = "json",
) -> Response:
    """Stored ticks with from <= time_msc <= to, oldest first (at most `limit`)."""
    from_ms = parse_time_ms(from_, field="from")
    to_ms = None if to is None else parse_time_ms(to, field="to")
    check_order(from_ms, to_ms)
    ticks = read_ticks(
        stores,
        symbol,
        from_ms=from_ms,
        to_ms=to_ms,
        limit=limit,
        max_ticks=settings.data.limits.max_ticks_per_request,
    )
    return series_response(ticks, format, {"symbol": symbol}, f"{symbol}_ticks")


@router.get("/ohlc/{symbol}/{timeframe}", response_model=None)
def get_ohlc(
    symbol: SymbolDep,
    timeframe: TimeframeDep,
    stores: StoresDep,
    settings: SettingsDep,
    from_: Annotated[str | None, Query(alias="from", description="ISO-8601 or epoch s; inclusive")] = None,
    to: Annotated[str | None, Query(description="ISO-8601 or epoch s; inclusive")] = None,
    count: Annotated[int | None, Query(ge=1, description="the newest `count` bars (up to `to`)")] = None,
    format: OutputFormat = "json",
) -> Response:
    """Bars opening in [from, to] (or the newest `count`), built from lower stored timeframes wherever a
    timeframe's own rows are missing; `coverage` (JSON field, or Arrow schema metadata) gives the bars'
    count, first and last, and the holes left in the window against the trading calendar."""
    from_s, to_s = optional_time_s(from_, "from"), optional_time_s(to, "to")
    check_order(from_s, to_s)
    bars, coverage = read_bars(
        stores,
        symbol,
        timeframe,
        from_s=from_s,
        to_s=to_s,
        count=count,
        max_bars=settings.data.limits.max_bars_per_request,
    )
    meta = {"symbol": symbol, "timeframe": timeframe}
    return series_response(bars, format, meta, f"{symbol}_{timeframe}", coverage)
