"""Request and response models of the pattern service.

Responses carrying series are encoded straight from numpy (see `api.responses`); their models here document
the shape in OpenAPI.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from services.pattern.core.chart_analysis import ChartOptions
from shared.market.bar_columns import FloatColumn, TimeColumn
from shared.market.coverage import Coverage
from shared.market.names import TimeframeName

SpecList = str | list[str]


def join_specs(specs: SpecList) -> str:
    """`"SMA(20),RSI(14)"` or `["SMA(20)", "RSI(14)"]` as the one comma-separated text the parser reads."""
    return specs if isinstance(specs, str) else ",".join(specs)


class BarsIn(BaseModel):
    """Bars sent with a request: equal-length columns; `volume` or `tick_volume`; other columns allowed.

    Columns arrive as numpy arrays (numbers only; see `shared.market.bar_columns`); the rules across
    columns (lengths, order, finite values, high >= low) are `shared.market.bar_input`'s. Keep it free of
    validators: the JSON fast path (`shared.market.bar_body`) puts simdjson's arrays in without running them.
    """

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, FloatColumn]

    time: TimeColumn = Field(description="bar open times, epoch seconds, strictly increasing")
    open: FloatColumn | None = None
    high: FloatColumn | None = None
    low: FloatColumn | None = None
    close: FloatColumn | None = None
    volume: FloatColumn | None = None
    tick_volume: FloatColumn | None = None

    def columns(self) -> dict[str, np.ndarray | None]:
        """Every column sent, named ones and extra ones (e.g. MAVP's `periods`)."""
        named = {name: getattr(self, name) for name in type(self).model_fields}
        return {**named, **(self.__pydantic_extra__ or {})}


class IndicatorsComputeRequest(BaseModel):
    bars: BarsIn
    indicators: SpecList = Field(examples=["SMA(20),RSI(14),MACD(12,26,9),BBANDS(20,2,2)"])


class PatternsDetectRequest(BaseModel):
    bars: BarsIn
    patterns: SpecList | None = Field(
        default=None, description="default: all 61", examples=["ENGULFING,HAMMER"]
    )


class ChartOptionsIn(BaseModel):
    """Tuning of the chart analysis; tolerances and depths are fractions of price (0.002 = 0.2 %)."""

    swing_left: int = Field(default=2, ge=1, le=100)
    swing_right: int = Field(default=2, ge=1, le=100)
    level_tolerance: float = Field(default=0.002, gt=0, lt=1)
    min_touches: int = Field(default=2, ge=1)
    pivot_method: Literal["classic", "fibonacci", "camarilla"] = "classic"
    pivot_period: TimeframeName = Field(default="D1", description="the period each pivot set covers")
    double_tolerance: float = Field(default=0.005, ge=0, lt=1)
    double_min_depth: float = Field(default=0.01, ge=0, lt=1)
    double_min_bars: int = Field(default=3, ge=1)

    def to_options(self) -> ChartOptions:
        """The core's options."""
        return ChartOptions(**self.model_dump(include=set(ChartOptionsIn.model_fields)))


class ChartAnalyzeRequest(ChartOptionsIn):
    # Strict as a JSON body, so `false` is not a number; as query parameters (text) the options stay lax.
    model_config = ConfigDict(strict=True)

    bars: BarsIn


class ParameterRead(BaseModel):
    name: str
    display_name: str
    type: Literal["int", "float", "ma_type"]
    default: int | float
    description: str
    min: int | float | None = None
    max: int | float | None = None
    choices: list[dict[str, Any]] | None = None


class IndicatorRead(BaseModel):
    name: str
    group: str
    display_name: str
    inputs: list[dict[str, str]]
    parameters: list[ParameterRead]
    outputs: list[str]
    flags: list[str]


class PatternRead(BaseModel):
    name: str
    description: str
    direction: Literal["bullish", "bearish", "both", "neutral"]
    parameters: list[ParameterRead]


class SpecRead(BaseModel):
    label: str
    name: str
    parameters: dict[str, int | float]
    inputs: dict[str, str]
    columns: dict[str, str] = Field(description="output name -> result column")


COVERAGE_DOC = (
    "the bars used (count, first, last; look-back included) and the holes against the trading calendar "
    "in the window the data service was asked for; posted bars: holes null (no calendar context)"
)


class IndicatorsRead(BaseModel):
    symbol: str | None = None
    timeframe: str | None = None
    indicators: list[SpecRead]
    coverage: Coverage | None = Field(default=None, description=COVERAGE_DOC)
    columns: dict[str, list[float | None]] = Field(description="time plus one column per output; NaN as null")


class DetectionRead(BaseModel):
    time: int
    pattern: str
    label: str
    direction: Literal["bullish", "bearish", "neutral"]
    strength: int


class DetectionsRead(BaseModel):
    symbol: str | None = None
    timeframe: str | None = None
    patterns: list[str]
    coverage: Coverage | None = Field(default=None, description=COVERAGE_DOC)
    detections: list[DetectionRead]


class ChartAnalysisRead(BaseModel):
    symbol: str | None = None
    timeframe: str | None = None
    swings: dict[str, dict[str, list[float]]]
    levels: list[dict[str, Any]]
    pivots: dict[str, Any]
    double_tops: list[dict[str, Any]]
    double_bottoms: list[dict[str, Any]]
    notes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="why a detector found nothing by construction: code too_few_bars, detector, bars, minimum",
    )
    coverage: Coverage | None = Field(default=None, description=COVERAGE_DOC)
