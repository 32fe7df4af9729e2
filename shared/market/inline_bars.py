"""Bars posted inline with a request (ai training and prediction, backtests): equal-length numpy columns."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.market.bar_columns import FloatColumn, TimeColumn

_COLUMNS = ("time", "open", "high", "low", "close", "tick_volume", "spread")


class InlineBars(BaseModel):
    """Bars posted with the request, column-oriented; `time` is the bar open in epoch seconds."""

    model_config = ConfigDict(extra="forbid")

    # The constraint sits inside Annotated: a `= Field(min_length=1)` default would be dropped by the
    # column's own schema (see shared.market.bar_columns).
    time: Annotated[TimeColumn, Field(min_length=1, json_schema_extra={"minItems": 1})]
    open: FloatColumn
    high: FloatColumn
    low: FloatColumn
    close: FloatColumn
    tick_volume: FloatColumn | None = None
    spread: FloatColumn | None = Field(default=None, description="spread of each bar, in points")

    @model_validator(mode="after")
    def _same_length(self) -> InlineBars:
        n = len(self.time)
        ragged = [name for name, values in self.columns().items() if len(values) != n]
        if ragged:
            raise ValueError(f"columns {', '.join(ragged)} differ in length from time ({n})")
        return self

    def columns(self) -> dict[str, np.ndarray]:
        """The columns sent (`time` int64, the others float64); optional columns not sent are left out."""
        return {name: values for name in _COLUMNS if (values := getattr(self, name)) is not None}
