"""Indicators: the TA-Lib catalog, and computation over bars sent in the body or read from the data service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.pattern.api.body import arrow_columns, body_schema, is_arrow, parse_json
from services.pattern.api.deps import (
    BarQueryDep,
    BarsSourceDep,
    IndicatorCatalogDep,
    PatternSectionDep,
    TimeframeDep,
)
from services.pattern.api.responses import json_from_thread
from services.pattern.core.bar_input import ColumnValues, bars_from_lists
from services.pattern.core.compute import ColumnFrame, compute
from services.pattern.core.spec import Spec, parse_specs
from services.pattern.core.symbol_series import indicators_over
from services.pattern.schemas import IndicatorRead, IndicatorsComputeRequest, IndicatorsRead, join_specs
from shared.errors import InvalidInputError, NotFoundError

router = APIRouter(tags=["indicators"])

SPECS_EXAMPLE = "SMA(20),RSI(14),MACD(12,26,9),BBANDS(20,2,2)"
ARROW_BODY = "bar columns as an Arrow IPC stream; the specs then go in the `indicators` query parameter"


@dataclass(frozen=True, slots=True)
class ComputeInput:
    """What to compute on which bars, from either body form."""

    specs: str
    columns: Mapping[str, ColumnValues | None]


async def get_compute_input(
    request: Request,
    indicators: Annotated[str | None, Query(description="the specs, with an Arrow IPC body")] = None,
) -> ComputeInput:
    """A JSON body `{bars, indicators}`, or an Arrow IPC body of bar columns plus `?indicators=`."""
    if is_arrow(request):
        if indicators is None:
            raise InvalidInputError(
                "indicators: required as a query parameter with an Arrow body",
                code="invalid_spec",
                details={"field": "indicators"},
            )
        return ComputeInput(indicators, await arrow_columns(request))
    body = await parse_json(request, IndicatorsComputeRequest)
    return ComputeInput(join_specs(body.indicators), body.bars.columns())


ComputeInputDep = Annotated[ComputeInput, Depends(get_compute_input)]


@router.get("/indicators", response_model=list[IndicatorRead])
async def list_indicators(catalog: IndicatorCatalogDep) -> list[dict[str, Any]]:
    """Every TA-Lib indicator: group, inputs, parameters (type, default, range) and outputs."""
    return catalog.describe()


@router.get("/indicators/{name}", response_model=IndicatorRead)
async def get_indicator(name: str, catalog: IndicatorCatalogDep) -> dict[str, Any]:
    """One indicator's description."""
    try:
        return catalog.resolve(name).to_dict()
    except InvalidInputError as exc:
        raise NotFoundError(exc.message, code=exc.code, details=exc.details) from None


@router.post(
    "/indicators/compute",
    response_model=IndicatorsRead,
    openapi_extra=body_schema(IndicatorsComputeRequest, arrow=ARROW_BODY),
)
async def compute_indicators(
    given: ComputeInputDep, catalog: IndicatorCatalogDep, section: PatternSectionDep
) -> Response:
    """Indicators over the bars in the body: time plus one column per output (NaN as null)."""
    specs = parse_specs(given.specs, catalog, max_specs=section.max_specs)

    def build() -> dict[str, Any]:
        bars = bars_from_lists(given.columns, max_bars=section.max_bars)
        return _content(specs, compute(specs, bars))

    return await json_from_thread(build)


@router.get("/indicators/{symbol}/{timeframe}", response_model=IndicatorsRead)
async def symbol_indicators(
    symbol: str,
    timeframe: TimeframeDep,
    query: BarQueryDep,
    indicators: Annotated[str, Query(description="comma-separated specs", examples=[SPECS_EXAMPLE])],
    catalog: IndicatorCatalogDep,
    source: BarsSourceDep,
    section: PatternSectionDep,
) -> Response:
    """Indicators over a symbol's bars from the data service, warmed up on the history before the window."""
    specs = parse_specs(indicators, catalog, max_specs=section.max_specs)
    frame = await indicators_over(
        source, specs, symbol, timeframe, query, warmup_lookbacks=section.warmup_lookbacks
    )
    return await json_from_thread(lambda: _content(specs, frame, symbol=symbol, timeframe=timeframe))


def _content(specs: list[Spec], frame: ColumnFrame, **where: str) -> dict[str, Any]:
    return {
        **where,
        "indicators": [spec.to_dict() for spec in specs],
        "columns": {"time": frame.time, **frame.columns},
    }
