"""Bar columns of a request body, validated straight into numpy arrays.

Each element is checked by pydantic-core's own (Rust) validators, which in `model_validate_json` read the
numbers off the JSON text without building generic Python objects first; the list of checked numbers then
becomes an array in one numpy call. Measured on 100,000 bars x 6 columns this is faster than orjson
followed by validation, and a refusal keeps pydantic's location of the element (`bars.close.3`).

Only numbers are accepted: strings, booleans, nulls and nested lists are refused (numpy alone would turn
`"1.5"` and `true` into floats). NaN and infinity pass here; the service decides how to refuse them, with
the row named. Times are integers within int64; a float time only when it has no fractional part.

Constraints go inside the annotation, `Annotated[TimeColumn, Field(min_length=1)]`: given as a field
default (`= Field(min_length=1)`) pydantic applies them before the column's schema, which drops them.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import GetPydanticSchema, WithJsonSchema
from pydantic_core import core_schema

_INT64_MIN, _INT64_MAX = int(np.iinfo(np.int64).min), int(np.iinfo(np.int64).max)


def _float_array(values: list[float]) -> np.ndarray:
    return np.fromiter(values, dtype=np.float64, count=len(values))


def _int_array(values: list[int]) -> np.ndarray:
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _as_list(array: np.ndarray) -> list[Any]:
    return array.tolist()


_TO_LIST = core_schema.plain_serializer_function_ser_schema(_as_list)

_FLOATS = core_schema.no_info_after_validator_function(
    _float_array,
    # Strict: a number only (ints included), never a numeric string or a boolean.
    core_schema.list_schema(core_schema.float_schema(strict=True)),
    serialization=_TO_LIST,
)

_TIME = core_schema.union_schema(
    [
        # An integer; else a float without fractional part (60.0: some encoders write integral floats).
        # A union rather than one chain of steps, so integers, the usual case, pass one check, not two.
        core_schema.int_schema(strict=True, ge=_INT64_MIN, le=_INT64_MAX),
        core_schema.chain_schema(
            [core_schema.float_schema(strict=True), core_schema.int_schema(ge=_INT64_MIN, le=_INT64_MAX)]
        ),
    ],
    custom_error_type="epoch_seconds",
    custom_error_message="Input should be whole epoch seconds (an integer within int64)",
)

_INTS = core_schema.no_info_after_validator_function(
    _int_array, core_schema.list_schema(_TIME), serialization=_TO_LIST
)

FloatColumn = Annotated[
    np.ndarray,
    GetPydanticSchema(lambda _source, _handler: _FLOATS),
    WithJsonSchema({"type": "array", "items": {"type": "number"}}),
]
"""A JSON array of numbers as a float64 array."""

TimeColumn = Annotated[
    np.ndarray,
    GetPydanticSchema(lambda _source, _handler: _INTS),
    WithJsonSchema({"type": "array", "items": {"type": "integer"}}),
]
"""A JSON array of integers (epoch seconds) as an int64 array."""
