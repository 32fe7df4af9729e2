"""Indicators: the TA-Lib catalog, and computation over bars sent in the body or read from the data service."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from services.pattern.api.deps import (
    BarQueryDep,
    BarsSourceDep,
    IndicatorCatalogDep,
    PatternSectionDep,
    SymbolDep,
    TimeframeDep,
)
from services.pattern.api.responses import body_from_thread, json_from_thread
from services.pattern.core.bar_input import bars_from_lists
from services.pattern.core.compute import ColumnFrame, compute
from services.pattern.core.spec import Spec, parse_specs
from services.pattern.core.symbol_series import indicators_over
from services.pattern.schemas import IndicatorRead, IndicatorsComputeRequest, IndicatorsRead, join_specs
from shared.columnar import ARROW_MEDIA_TYPE, SeriesFormat, wants_arrow
from shared.errors import InvalidInputError, NotFoundError
from shared.market.bar_body import arrow_columns, body_schema, is_arrow, parse_json
from shared.market.bar_input import ColumnValues
from shared.market.coverage import Coverage, of_times

router = APIRouter(tags=["indicators"])

SPECS_EXAMPLE = "SMA(20),RSI(14),MACD(12,26,9),BBANDS(20,2,2)"
ARROW_BODY = "bar columns as an Arrow IPC stream; the specs then go in the `indicators` query parameter"
# The JSON answer is documented by `response_model`; this names the Arrow form of the same columns (its
# layout is in the `format` parameter's description: OpenAPI has no schema for a binary stream's insides).
ARROW_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {ARROW_MEDIA_TYPE: {}}}}

FormatParam = Annotated[
    SeriesFormat | None,
    Query(
        alias="format",
        description="`json` (default) or `arrow`: an Arrow IPC stream of `time` (int64) and one float64 "
        "column per output, null where JSON has null, with the specs (JSON), symbol and timeframe in the "
        "schema metadata. Without it, an Accept header naming application/vnd.apache.arrow.stream asks "
        "for Arrow",
    ),
]


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
    responses=ARROW_ANSWER,
    openapi_extra=body_schema(IndicatorsComputeRequest, arrow=ARROW_BODY),
)
async def compute_indicators(
    request: Request,
    given: ComputeInputDep,
    catalog: IndicatorCatalogDep,
    section: PatternSectionDep,
    fmt: FormatParam = None,
) -> Response:
    """Indicators over the bars in the body: time plus one column per output (NaN as null)."""
    specs = parse_specs(given.specs, catalog, max_specs=section.max_specs)

    def frame() -> ColumnFrame:
        return compute(specs, bars_from_lists(given.columns, max_bars=section.max_bars))

    return await _columns_response(request, fmt, specs, frame, None)


@router.get("/indicators/{symbol}/{timeframe}", response_model=IndicatorsRead, responses=ARROW_ANSWER)
async def symbol_indicators(
    request: Request,
    symbol: SymbolDep,
    timeframe: TimeframeDep,
    query: BarQueryDep,
    indicators: Annotated[str, Query(description="comma-separated specs", examples=[SPECS_EXAMPLE])],
    catalog: IndicatorCatalogDep,
    source: BarsSourceDep,
    section: PatternSectionDep,
    fmt: FormatParam = None,
) -> Response:
    """Indicators over a symbol's bars from the data service, warmed up on the history before the window."""
    specs = parse_specs(indicators, catalog, max_specs=section.max_specs)
    frame, coverage = await indicators_over(
        source, specs, symbol, timeframe, query, warmup_lookbacks=section.warmup_lookbacks
    )
    return await _columns_response(
        request, fmt, specs, lambda: frame, coverage, symbol=symbol, timeframe=timeframe
    )


async def _columns_response(
    request: Request,
    fmt: SeriesFormat | None,
    specs: list[Spec],
    frame: Callable[[], ColumnFrame],
    coverage: Coverage | None,
    **where: str,
) -> Response:
    """The columns `frame()` returns (run off the event loop) as JSON, or as Arrow when asked; the
    coverage of the bars goes in the JSON, or in the Arrow schema metadata. Without one (posted bars),
    it is the frame's own count, first and last, with `holes: null`: posted bars carry no calendar."""
    if wants_arrow(request, fmt):

        def arrow() -> bytes:
            computed = frame()
            metadata = {
                **where,
                "indicators": orjson.dumps([spec.to_dict() for spec in specs]).decode(),
                **(coverage or of_times(computed.time)).to_metadata(),
            }
            return computed.to_arrow(metadata)

        return await body_from_thread(arrow, ARROW_MEDIA_TYPE)
    return await json_from_thread(lambda: _content(specs, frame(), coverage, **where))


def _content(
    specs: list[Spec], frame: ColumnFrame, coverage: Coverage | None, **where: str
) -> dict[str, Any]:
    return {
        **where,
        "indicators": [spec.to_dict() for spec in specs],
        "coverage": (coverage or of_times(frame.time)).to_dict(),
        "columns": {"time": frame.time, **frame.columns},
    }
