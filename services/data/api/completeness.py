"""`GET /completeness/{symbol}/{timeframe}`: expected vs stored bars per day, and the missing ranges."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from services.data.api.deps import MarketClockDep, SettingsDep, StoresDep, SymbolDep, TimeframeDep
from services.data.api.params import checked_range
from services.data.core.queries import completeness_document
from shared.market.clock import refuse_future

router = APIRouter(tags=["completeness"])


@router.get("/completeness/{symbol}/{timeframe}")
def get_completeness(
    symbol: SymbolDep,
    timeframe: TimeframeDep,
    stores: StoresDep,
    settings: SettingsDep,
    market_clock: MarketClockDep,
    from_: Annotated[str, Query(alias="from", description="ISO-8601 or epoch s")],
    to: Annotated[str, Query(description="ISO-8601 or epoch s; inclusive")],
) -> dict[str, Any]:
    """Per UTC day: expected bars (trading hours only), stored bars, missing ranges and percent."""
    from_s, to_s = checked_range(from_, to, settings.data.limits.max_range_days)
    refuse_future(market_clock.now_ms(), from_s)
    report = stores.bars.completeness(symbol, timeframe, from_s, to_s)
    return completeness_document(symbol, report)
