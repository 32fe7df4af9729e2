"""simdjson's fast path for JSON bar columns: what it accepts it reads exactly as pydantic would; anything
else it declines, for pydantic to refuse with the precise error."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from shared.market.bar_columns import FloatColumn, TimeColumn
from shared.market.bars_json import split_bars


class Bars(BaseModel):
    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, FloatColumn]

    time: TimeColumn
    close: FloatColumn | None = None


class Body(BaseModel):
    bars: Bars
    indicators: str | list[str]


def _slow(raw: bytes | str) -> dict[str, np.ndarray]:
    """The columns as pydantic's own parser reads them (the path the fast one must agree with)."""
    bars = Body.model_validate_json(raw).bars
    return {"time": bars.time, "close": bars.close, **(bars.__pydantic_extra__ or {})}


def _assert_same_bits(fast: dict[str, np.ndarray], slow: dict[str, Any]) -> None:
    assert fast.keys() == {name for name, values in slow.items() if values is not None}
    for name, values in fast.items():
        assert values.dtype == slow[name].dtype, name
        assert values.tobytes() == slow[name].tobytes(), name  # bit for bit: -0.0 and subnormals too


def test_columns_and_other_fields_read_like_pydantic() -> None:
    raw = b'{"indicators": ["SMA(20)", "RSI(14)"], "bars": {"time": [60, 120], "close": [1, 2.5], "x": [3e2, -0.0]}}'

    split = split_bars(raw)

    assert split is not None
    assert split.rest == {"indicators": ["SMA(20)", "RSI(14)"]}
    assert split.columns["time"].dtype == np.int64 and split.columns["close"].dtype == np.float64
    _assert_same_bits(split.columns, _slow(raw))


def test_pretty_printed_body_reads_the_same() -> None:
    body = {"bars": {"time": [60, 120, 180], "close": [1.1, 1e-7, 12345678.9]}, "indicators": "SMA(2)"}

    compact, pretty = split_bars(orjson.dumps(body)), split_bars(json.dumps(body, indent=4).encode())

    assert compact is not None and pretty is not None
    _assert_same_bits(pretty.columns, compact.columns)


finite_floats = st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**53), 2**53)


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(finite_floats, min_size=1, max_size=50),
    style=st.sampled_from(["orjson", "repr", "exponent"]),
)
def test_any_finite_numbers_read_bit_for_bit_as_pydantic_reads_them(values: list[float], style: str) -> None:
    if style == "orjson":
        text = orjson.dumps(values).decode()
    elif style == "repr":
        text = "[" + ", ".join(repr(v) for v in values) + "]"
    else:
        text = "[" + ",".join(f"{v:.17e}" if isinstance(v, float) else str(v) for v in values) + "]"
    raw = f'{{"bars": {{"time": {list(range(len(values)))}, "close": {text}}}, "indicators": "SMA(2)"}}'

    split = split_bars(raw.encode())

    assert split is not None
    _assert_same_bits(split.columns, _slow(raw))


@pytest.mark.parametrize(
    "raw",
    [
        b'{"bars": {"time": [60], "close": [null]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": ["1.5"]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": [true]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": [{}]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60, 120], "close": [[1], 2]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60, 120], "close": [[1, 2]]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": 1.5}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60.0], "close": [1.5]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [9223372036854775808]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": [1e400]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": [NaN]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": [1.5]}, "indicators": "SMA(2)"',
        b'{"bars": {"time": [60], "close": [1.5], "close": [2.5]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60]}, "bars": {"time": [120]}, "indicators": "SMA(2)"}',
        b'{"bars": {"time": [60], "close": [1.5]}, "indicators": "a[b"}',
        b'{"bars": [[60, 1.5]], "indicators": "SMA(2)"}',
        b'[{"bars": {"time": [60]}}]',
        b"",
    ],
    ids=[
        "null", "string", "boolean", "object", "nested-one", "nested-two", "not-an-array", "float-time",
        "time-beyond-int64", "overflow", "nan-literal", "truncated", "duplicate-column", "duplicate-bars",
        "bracket-in-string", "bars-not-an-object", "body-not-an-object", "empty",
    ],
)  # fmt: skip
def test_anything_else_is_declined_for_pydantic_to_judge(raw: bytes) -> None:
    assert split_bars(raw) is None


def test_declined_nested_arrays_would_have_been_flattened_into_plausible_numbers() -> None:
    """Why the bracket count matters: simdjson reads [[1], 2] as two numbers, pydantic refuses it."""
    raw = b'{"bars": {"time": [60, 120], "close": [[1], 2]}, "indicators": "SMA(2)"}'

    assert split_bars(raw) is None
    with pytest.raises(ValueError, match="close"):
        _slow(raw)


def test_declined_after_a_refusal_the_parser_serves_the_next_body() -> None:
    assert split_bars(b'{"bars": {"time": [60], "close": ["x"]}}') is None

    split = split_bars(b'{"bars": {"time": [60], "close": [1.25]}}')

    assert split is not None and split.columns["close"].tolist() == [1.25]
