"""Bars posted inline with a request (ai training and prediction, backtests): numpy columns.

The model checks each column alone (numbers only, see `shared.market.bar_columns`); the rules across
columns (equal lengths, at least one bar, order) are `shared.market.bar_input.check_bars`', which the
services run through `checked()`. Keep the model free of validators: the JSON fast path
(`shared.market.bar_body`) puts simdjson's arrays in without running them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shared.market.bar_columns import FloatColumn, TimeColumn
from shared.market.bar_input import BAR_COLUMNS, Columns, check_bars


class InlineBars(BaseModel):
    """Bars posted with the request, column-oriented; `time` is the bar open in epoch seconds."""

    model_config = ConfigDict(extra="forbid")

    # Documented only: at least one bar is `check_bars(min_bars=1)`'s rule (the fast path skips this model's).
    time: Annotated[TimeColumn, Field(json_schema_extra={"minItems": 1})]
    open: FloatColumn
    high: FloatColumn
    low: FloatColumn
    close: FloatColumn
    tick_volume: FloatColumn | None = None
    spread: FloatColumn | None = Field(default=None, description="spread of each bar, in points")

    def columns(self) -> dict[str, np.ndarray]:
        """The columns sent (`time` int64, the others float64); optional columns not sent are left out."""
        return {name: values for name in BAR_COLUMNS if (values := getattr(self, name)) is not None}

    def checked(self, *, positive: Sequence[str] = ()) -> Columns:
        """`columns()` after the rules across columns (`check_bars`: at least one bar, equal lengths, order,
        finite values, high >= low, the `positive` columns above zero); 422 invalid_bars otherwise."""
        return check_bars(self.columns(), min_bars=1, positive=positive)
