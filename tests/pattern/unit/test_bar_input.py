"""Client bars: converted to numpy and refused with the column and row named."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from services.pattern.core.bar_input import bars_from_lists
from shared.errors import InvalidInputError

GOOD: dict[str, Any] = {
    "time": [60, 120, 180],
    "open": [1.0, 2.0, 3.0],
    "high": [2.0, 3.0, 4.0],
    "low": [0.5, 1.5, 2.5],
    "close": [1.5, 2.5, 3.5],
    "tick_volume": [5.0, 6.0, 7.0],
    "spread": None,
}


def test_bars_from_lists_good_bars_become_arrays_with_volume_alias() -> None:
    bars = bars_from_lists(GOOD, max_bars=10, required=("high", "low", "close"))

    assert bars["time"].dtype == np.int64
    assert "spread" not in bars
    np.testing.assert_array_equal(bars["volume"], [5.0, 6.0, 7.0])


@pytest.mark.parametrize(
    ("change", "column", "index"),
    [
        ({"close": [1.0, 2.0]}, "close", None),
        ({"low": [0.5, math.inf, 2.5]}, "low", 1),
        ({"open": [1.0, math.nan, 3.0]}, "open", 1),
        ({"high": [2.0, 1.0, 4.0]}, "high", 1),
        ({"time": [60, 60, 180]}, "time", 1),
        ({"time": [60, 180, 120]}, "time", 2),
        ({"close": None}, "close", None),
        ({"time": list(range(60, 720, 60))}, "time", None),
    ],
    ids=[
        "length",
        "infinite",
        "nan",
        "high-below-low",
        "repeated-time",
        "backwards-time",
        "missing",
        "too-many",
    ],
)
def test_bars_from_lists_bad_bars_raise_422_naming_column(
    change: dict[str, Any], column: str, index: int | None
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        bars_from_lists({**GOOD, **change}, max_bars=10, required=("high", "low", "close"))

    assert raised.value.code == "invalid_bars"
    assert (raised.value.details["column"], raised.value.details["index"]) == (column, index)


def test_bars_from_lists_arrays_of_the_right_type_are_not_copied() -> None:
    given = {name: np.asarray(values) for name, values in GOOD.items() if values is not None}

    bars = bars_from_lists(given, max_bars=10)

    assert all(bars[name] is given[name] for name in given)
    assert bars["volume"] is given["tick_volume"]


def test_bars_from_lists_non_numeric_column_raises_422_naming_column() -> None:
    with pytest.raises(InvalidInputError) as raised:
        bars_from_lists({**GOOD, "close": np.array(["n/a", "n/a", "n/a"], dtype=object)}, max_bars=10)

    assert (raised.value.details["column"], raised.value.details["index"]) == ("close", None)
