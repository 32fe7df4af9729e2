"""Bars posted inline (ai, backtesting): numpy columns of numbers, no other columns (the rules across
columns are check_bars', tested in test_bar_input)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from shared.market.inline_bars import InlineBars

GOOD: dict[str, Any] = {
    "time": [60, 120],
    "open": [1.0, 2.0],
    "high": [2.0, 3.0],
    "low": [0.5, 1.5],
    "close": [1.5, 2.5],
}


def test_inline_bars_columns_are_arrays_without_the_absent_ones() -> None:
    bars = InlineBars.model_validate({**GOOD, "spread": [10, 12]})

    columns = bars.columns()

    assert list(columns) == ["time", "open", "high", "low", "close", "spread"]
    assert columns["time"].dtype == np.int64 and columns["spread"].dtype == np.float64
    assert columns["close"] is bars.close  # handed on, not copied


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"low": [0.5, "1.5"]}, ("low", 1)),
        ({"time": [60, 120.5]}, ("time", 1)),
        ({"volume": [1.0, 2.0]}, ("volume",)),
    ],
    ids=["string-price", "fractional-time", "unknown-column"],
)
def test_inline_bars_bad_columns_refused_naming_the_place(
    change: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    with pytest.raises(ValidationError) as raised:
        InlineBars.model_validate_json(json.dumps({**GOOD, **change}))

    assert raised.value.errors()[0]["loc"] == loc


def test_inline_bars_schema_requires_a_bar() -> None:
    assert InlineBars.model_json_schema()["properties"]["time"]["minItems"] == 1


def test_inline_bars_model_has_no_validators_the_fast_path_would_skip() -> None:
    """simdjson's fast path builds InlineBars from its arrays without validating them
    (shared.market.bar_body): every rule across columns must live in shared.market.bar_input."""
    decorators = InlineBars.__pydantic_decorators__

    assert not (decorators.model_validators or decorators.field_validators or decorators.validators)
