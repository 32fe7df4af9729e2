"""JSON bar columns read straight into numpy arrays: numbers only, each refusal naming the element."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from shared.market.bar_columns import FloatColumn, TimeColumn


class Bars(BaseModel):
    time: TimeColumn
    close: FloatColumn | None = None


def _refusal(body: str) -> dict[str, Any]:
    with pytest.raises(ValidationError) as raised:
        Bars.model_validate_json(body)
    errors = raised.value.errors()
    assert len(errors) == 1
    return dict(errors[0])


def test_columns_numbers_become_int64_and_float64_arrays() -> None:
    bars = Bars.model_validate_json('{"time": [60, 120.0, 180], "close": [1, 2.5, 1e3]}')

    assert bars.time.dtype == np.int64 and bars.close is not None and bars.close.dtype == np.float64
    np.testing.assert_array_equal(bars.time, [60, 120, 180])
    np.testing.assert_array_equal(bars.close, [1.0, 2.5, 1000.0])


def test_columns_python_input_validates_the_same_way() -> None:
    bars = Bars.model_validate({"time": [60, 120.0], "close": [1, 2.5]})

    assert bars.time.dtype == np.int64 and bars.close is not None and bars.close.dtype == np.float64
    with pytest.raises(ValidationError):
        Bars.model_validate({"time": [60, True]})
    with pytest.raises(ValidationError):
        Bars.model_validate({"time": [60], "close": [False]})


@pytest.mark.parametrize("value", ['"1.5"', "true", "false", "null", "[2.0]", "{}"])
def test_float_column_non_number_refused_at_its_index(value: str) -> None:
    error = _refusal(f'{{"time": [60, 120, 180], "close": [1.0, 2.0, {value}]}}')

    assert (error["loc"], error["type"]) == (("close", 2), "float_type")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_float_column_non_finite_passes_for_the_service_to_refuse(value: str) -> None:
    bars = Bars.model_validate_json(f'{{"time": [60], "close": [{value}]}}')

    assert bars.close is not None and not np.isfinite(bars.close[0])


@pytest.mark.parametrize(
    "value",
    ["60.5", '"60"', "true", "null", "[60]", "NaN", "1e30", "9223372036854775808", "-9223372036854775809"],
)
def test_time_column_non_integer_refused_at_its_index(value: str) -> None:
    error = _refusal(f'{{"time": [0, {value}]}}')

    assert (error["loc"], error["type"]) == (("time", 1), "epoch_seconds")


def test_time_column_int64_bounds_accepted() -> None:
    bars = Bars.model_validate_json('{"time": [-9223372036854775808, 9223372036854775807]}')

    assert bars.time.tolist() == [-(2**63), 2**63 - 1]


@pytest.mark.parametrize("column", ['"1,2"', "5", "{}"])
def test_column_not_an_array_refused(column: str) -> None:
    error = _refusal(f'{{"time": [60], "close": {column}}}')

    assert (error["loc"], error["type"]) == (("close",), "list_type")


def test_columns_documented_as_arrays_of_numbers_and_integers() -> None:
    properties = Bars.model_json_schema()["properties"]

    assert properties["time"] == {"type": "array", "items": {"type": "integer"}, "title": "Time"}
    assert {"type": "array", "items": {"type": "number"}} in properties["close"]["anyOf"]


def test_columns_serialise_as_lists() -> None:
    bars = Bars.model_validate_json('{"time": [60], "close": [1.5]}')

    assert bars.model_dump() == {"time": [60], "close": [1.5]}
    assert bars.model_dump_json() == '{"time":[60],"close":[1.5]}'
