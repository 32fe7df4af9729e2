"""Chart analysis: swings, support/resistance, pivots and double tops/bottoms over a window of bars."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from services.pattern.api.deps import BarQueryDep, BarsSourceDep, PatternSectionDep, SymbolDep, TimeframeDep
from services.pattern.api.responses import json_from_thread
from services.pattern.core.bar_input import bars_from_lists
from services.pattern.core.chart_analysis import analyze_chart
from services.pattern.core.symbol_series import chart_over
from services.pattern.schemas import ChartAnalysisRead, ChartAnalyzeRequest, ChartOptionsIn
from shared.market.bar_body import body_schema, json_body
from shared.market.coverage import of_times

router = APIRouter(tags=["chart patterns"])

AnalyzeBody = Annotated[ChartAnalyzeRequest, Depends(json_body(ChartAnalyzeRequest))]


@router.post(
    "/chart-patterns/analyze",
    response_model=ChartAnalysisRead,
    openapi_extra=body_schema(ChartAnalyzeRequest),
)
async def analyze(body: AnalyzeBody, section: PatternSectionDep) -> Response:
    """Chart analysis of the bars in the body (time, high, low, close)."""

    def build() -> dict[str, Any]:
        bars = bars_from_lists(
            body.bars.columns(), max_bars=section.max_bars, required=("high", "low", "close")
        )
        # Posted bars carry no calendar: their coverage is what they are, with holes unknown (null).
        return {**analyze_chart(bars, body.to_options()), "coverage": of_times(bars["time"]).to_dict()}

    return await json_from_thread(build)


@router.get("/chart-patterns/{symbol}/{timeframe}", response_model=ChartAnalysisRead)
async def symbol_chart(
    symbol: SymbolDep,
    timeframe: TimeframeDep,
    query: BarQueryDep,
    options: Annotated[ChartOptionsIn, Query()],
    source: BarsSourceDep,
) -> Response:
    """Chart analysis of a symbol's bars from the data service."""
    analysis = await chart_over(source, options.to_options(), symbol, timeframe, query)
    return await json_from_thread(lambda: {"symbol": symbol, "timeframe": timeframe, **analysis})
