"""Typed dependencies: the objects built in the lifespan, and the query parameters routes share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request

from services.pattern.core.bars_source import BarQuery, BarReader
from services.pattern.core.catalog import Catalog
from services.pattern.settings import PatternSection
from shared.errors import InvalidInputError
from shared.market.names import SymbolName, TimeframeName
from shared.utils import parse_time_s


async def get_indicator_catalog(request: Request) -> Catalog:
    return request.app.state.indicators


async def get_candlestick_catalog(request: Request) -> Catalog:
    return request.app.state.candlesticks


async def get_bars_source(request: Request) -> BarReader:
    return request.app.state.bars_source


async def get_pattern_section(request: Request) -> PatternSection:
    return request.app.state.settings.pattern


IndicatorCatalogDep = Annotated[Catalog, Depends(get_indicator_catalog)]
CandlestickCatalogDep = Annotated[Catalog, Depends(get_candlestick_catalog)]
BarsSourceDep = Annotated[BarReader, Depends(get_bars_source)]
PatternSectionDep = Annotated[PatternSection, Depends(get_pattern_section)]


async def get_bar_query(
    section: PatternSectionDep,
    from_: Annotated[
        str | None, Query(alias="from", description="first bar time, ISO-8601 or epoch seconds")
    ] = None,
    to: Annotated[
        str | None,
        Query(description="end, ISO-8601 or epoch seconds, read as the data service's /ohlc reads it"),
    ] = None,
    count: Annotated[int | None, Query(ge=1, description="the last N bars before `to`")] = None,
) -> BarQuery:
    """The window of bars asked for: from/to, or count (default: the last `pattern.default_count` bars)."""
    if from_ is not None and count is not None:
        raise InvalidInputError(
            "give either from or count, not both", code="invalid_query", details={"field": "count"}
        )
    if count is not None and count > section.max_bars:
        raise InvalidInputError(
            f"count: at most {section.max_bars} bars",
            code="invalid_query",
            details={"field": "count", "max": section.max_bars},
        )
    start = parse_time_s(from_, field="from") if from_ is not None else None
    end = parse_time_s(to, field="to") if to is not None else None
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("to must be after from", code="invalid_query", details={"field": "to"})
    if start is None and count is None:
        count = section.default_count
    return BarQuery(start=start, end=end, count=count)


SymbolDep = SymbolName
TimeframeDep = TimeframeName
BarQueryDep = Annotated[BarQuery, Depends(get_bar_query)]
