"""Bulk ticks and bars: JSON columns by default, Arrow IPC with `format=arrow` or an Arrow Accept header."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import StreamingResponse

from services.mt5.api.deps import MarketDep
from services.mt5.api.series import series_response
from services.mt5.core.market_data import TICK_FLAGS
from shared.columnar import SeriesFormat
from shared.errors import InvalidInputError
from shared.market.names import SymbolName, TimeframeName
from shared.market.timeframes import get_timeframe
from shared.utils import parse_time_ms

router = APIRouter(tags=["market data"])

TimeParam = Annotated[str | None, Query(description="ISO-8601, epoch seconds or epoch milliseconds (UTC)")]
FromParam = Annotated[str | None, Query(alias="from", description="ISO-8601, epoch s or epoch ms (UTC)")]
CountParam = Annotated[int | None, Query(ge=1)]
FormatParam = Annotated[SeriesFormat | None, Query(alias="format")]
_ONLY_ONE = "give either `to` or `count`, not both"


@router.get("/ticks/{symbol}", response_class=StreamingResponse)
async def get_ticks(
    symbol: SymbolName,
    request: Request,
    market: MarketDep,
    from_: Annotated[str, Query(alias="from", description="ISO-8601, epoch s or epoch ms (UTC)")],
    to: TimeParam = None,
    count: CountParam = None,
    flags: Literal["all", "info", "trade"] = "all",
    fmt: FormatParam = None,
) -> StreamingResponse:
    """Ticks with from <= time_msc <= to (copy_ticks_range; to defaults to the latest tick), or the first
    `count` ticks from `from` (copy_ticks_from). Columns: MT5's TICKS_DTYPE."""
    from_ms = parse_time_ms(from_, field="from")
    if to is not None and count is not None:
        raise InvalidInputError(_ONLY_ONE, code="invalid_range", details={"field": "count"})
    if count is not None:
        ticks = await market.ticks_from(symbol, from_ms, count, TICK_FLAGS[flags])
    else:
        to_ms = (
            parse_time_ms(to, field="to") if to is not None else max(from_ms, await market.latest_ms(symbol))
        )
        ticks = await market.ticks_range(symbol, from_ms, to_ms, TICK_FLAGS[flags])
    return series_response(request, ticks, fmt, {"symbol": symbol, "flags": flags})


@router.get("/rates/{symbol}/{timeframe}", response_class=StreamingResponse)
async def get_rates(
    symbol: SymbolName,
    timeframe: TimeframeName,
    request: Request,
    market: MarketDep,
    from_: FromParam = None,
    to: TimeParam = None,
    count: CountParam = None,
    fmt: FormatParam = None,
) -> StreamingResponse:
    """Bars with from <= open time <= to (copy_rates_range; to defaults to the latest tick), or the last
    `count` bars opening at or before `to` (up to the current bar without `to`). Columns: RATES_DTYPE."""
    tf = get_timeframe(timeframe)
    to_s = parse_time_ms(to, field="to") // 1000 if to is not None else None
    if count is not None:
        if from_ is not None:
            raise InvalidInputError(
                "give `from` (and `to`) or `count` (and `to`), not both", details={"field": "count"}
            )
        rates = await market.rates_last(symbol, tf, count, to_s)
    elif from_ is not None:
        from_s = parse_time_ms(from_, field="from") // 1000
        if to_s is None:
            to_s = max(from_s, await market.latest_ms(symbol) // 1000)
        rates = await market.rates_range(symbol, tf, from_s, to_s)
    else:
        raise InvalidInputError("`from` or `count` is required", details={"field": "from"})
    return series_response(request, rates, fmt, {"symbol": symbol, "timeframe": tf.name})
