"""Candlestick patterns: the 61 TA-Lib patterns, detected over bars in the body or from the data service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.pattern.api.deps import (
    BarQueryDep,
    BarsSourceDep,
    CandlestickCatalogDep,
    PatternSectionDep,
    SymbolDep,
    TimeframeDep,
)
from services.pattern.api.responses import json_from_thread
from services.pattern.core.bar_input import bars_from_lists
from services.pattern.core.candlesticks import Detections, describe_patterns, detect_patterns
from services.pattern.core.catalog import Catalog
from services.pattern.core.spec import Spec, parse_specs
from services.pattern.core.symbol_series import patterns_over
from services.pattern.schemas import DetectionsRead, PatternRead, PatternsDetectRequest, join_specs
from shared.market.bar_body import body_schema, json_body
from shared.market.coverage import Coverage, of_times

router = APIRouter(tags=["patterns"])

DetectBody = Annotated[PatternsDetectRequest, Depends(json_body(PatternsDetectRequest))]
OHLC = ("open", "high", "low", "close")


@router.get("/patterns", response_model=list[PatternRead])
async def list_patterns(catalog: CandlestickCatalogDep) -> list[dict[str, Any]]:
    """All 61 candlestick patterns: name, description and direction (bullish, bearish, both, neutral)."""
    return describe_patterns(catalog)


@router.post(
    "/patterns/detect", response_model=DetectionsRead, openapi_extra=body_schema(PatternsDetectRequest)
)
async def detect(body: DetectBody, catalog: CandlestickCatalogDep, section: PatternSectionDep) -> Response:
    """Pattern occurrences over the bars in the body: time, pattern, direction, strength."""
    specs = _specs(join_specs(body.patterns) if body.patterns else None, catalog, section.max_specs)

    def build() -> dict[str, Any]:
        bars = bars_from_lists(body.bars.columns(), max_bars=section.max_bars, required=OHLC)
        return _content(specs, detect_patterns(specs, bars), of_times(bars["time"]))

    return await json_from_thread(build)


@router.get("/patterns/{symbol}/{timeframe}", response_model=DetectionsRead)
async def symbol_patterns(
    symbol: SymbolDep,
    timeframe: TimeframeDep,
    query: BarQueryDep,
    catalog: CandlestickCatalogDep,
    source: BarsSourceDep,
    section: PatternSectionDep,
    patterns: Annotated[str | None, Query(description="comma-separated specs; default: all")] = None,
) -> Response:
    """Pattern occurrences within a symbol's bars from the data service."""
    specs = _specs(patterns, catalog, section.max_specs)
    detections, coverage = await patterns_over(source, specs, symbol, timeframe, query)
    return await json_from_thread(
        lambda: _content(specs, detections, coverage, symbol=symbol, timeframe=timeframe)
    )


def _specs(text: str | None, catalog: Catalog, max_specs: int) -> list[Spec]:
    """The requested patterns, or all of them (which the per-request limit does not apply to)."""
    if text is None:
        return parse_specs(",".join(catalog), catalog, max_specs=len(catalog))
    return parse_specs(text, catalog, max_specs=max_specs)


def _content(
    specs: list[Spec], detections: Detections, coverage: Coverage | None, **where: str
) -> dict[str, Any]:
    return {
        **where,
        "patterns": [spec.label for spec in specs],
        "coverage": None if coverage is None else coverage.to_dict(),
        "detections": detections.to_records(),
    }
