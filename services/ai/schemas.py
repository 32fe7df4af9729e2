"""Request and response models of the ai service."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.ai.core.training import TrainSpec
from shared.json_input import TimeValue
from shared.market.inline_bars import InlineBars
from shared.market.names import SymbolName, TimeframeName

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_INT64 = np.iinfo(np.int64)

# Models read their inputs as float32: a larger magnitude would reach them as infinity.
FeatureValue = Annotated[float, Field(strict=True, ge=-_FLOAT32_MAX, le=_FLOAT32_MAX)]
EpochSeconds = Annotated[int, Field(strict=True, ge=int(_INT64.min), le=int(_INT64.max))]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class TrainRequest(TrainSpec):
    """A model to train, on bars from the data service (symbol, timeframe, from, to) or posted inline."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    symbol: SymbolName | None = None
    timeframe: TimeframeName | None = None
    from_: TimeValue | None = Field(
        default=None, alias="from", description="ISO-8601 or epoch seconds", examples=["2024-01-01"]
    )
    to: TimeValue | None = Field(
        default=None, description="inclusive; ISO-8601 or epoch seconds", examples=["2024-03-01"]
    )
    bars: InlineBars | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TrainRequest:
        window = (self.symbol, self.timeframe, self.from_, self.to)
        if self.bars is None and any(v is None for v in window):
            missing = [
                n for n, v in zip(("symbol", "timeframe", "from", "to"), window, strict=True) if v is None
            ]
            raise ValueError(f"give bars, or symbol, timeframe, from and to (missing: {', '.join(missing)})")
        if self.bars is not None and (self.from_ is not None or self.to is not None):
            raise ValueError("give either bars or from/to, not both")
        return self

    def spec(self) -> TrainSpec:
        """The training part of the request, without where the bars come from."""
        return TrainSpec.model_validate(self.model_dump(include=set(TrainSpec.model_fields)))


class PredictRequest(_Request):
    """Bars inline, the latest `count` bars of a symbol from the data service, or a feature matrix."""

    bars: InlineBars | None = None
    symbol: SymbolName | None = None
    timeframe: TimeframeName | None = None
    count: int | None = Field(default=None, ge=1, strict=True, description="predict the newest `count` bars")
    features: dict[str, list[FeatureValue | None]] | None = Field(
        default=None, description="named feature columns, exactly the model's feature_columns"
    )
    time: list[EpochSeconds] | None = Field(
        default=None, description="bar times of the feature rows (optional)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> PredictRequest:
        latest = (self.symbol, self.timeframe, self.count)
        sources = [self.bars is not None, any(v is not None for v in latest), self.features is not None]
        if sum(sources) != 1:
            raise ValueError("give exactly one of bars, {symbol, timeframe, count} or features")
        if sources[1] and any(v is None for v in latest):
            raise ValueError("symbol, timeframe and count go together")
        if self.time is not None and self.features is None:
            raise ValueError("time goes with features (bars carry their own times)")
        return self


class ModelSummary(BaseModel):
    id: str
    name: str
    version: int
    model_type: str
    task: str
    symbol: str | None
    timeframe: str | None
    created_ms: int
    headline: dict[str, Any]
