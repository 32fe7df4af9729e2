"""The rules across bar columns every service runs (check_bars), on inline bars as the fast path builds them."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from shared.errors import InvalidInputError
from shared.market.bar_input import PRICE_COLUMNS, check_bars
from shared.market.inline_bars import InlineBars

GOOD: dict[str, Any] = {
    "time": [60, 120],
    "open": [1.0, 2.0],
    "high": [2.0, 3.0],
    "low": [0.5, 1.5],
    "close": [1.5, 2.5],
}


@pytest.mark.parametrize(
    ("change", "options", "column", "index"),
    [
        ({"close": [1.5]}, {}, "close", None),
        ({"tick_volume": [1.0, 2.0, 3.0]}, {}, "tick_volume", None),
        ({"time": [], "open": [], "high": [], "low": [], "close": []}, {"min_bars": 1}, "time", None),
        (
            {"time": [60, 120, 180]} | {n: [1.0, 1.0, 1.0] for n in PRICE_COLUMNS},
            {"max_bars": 2},
            "time",
            None,
        ),
        ({"low": [0.5, -1.0]}, {"positive": PRICE_COLUMNS}, "low", 1),
        ({"time": [120, 60]}, {}, "time", 1),
        ({"high": [2.0, 1.0]}, {}, "high", 1),
        ({"close": [1.5, float("nan")]}, {}, "close", 1),
    ],
    ids=["ragged", "ragged-optional", "empty", "too-many", "not-positive", "unordered", "crossed", "nan"],
)
def test_check_bars_refuses_with_invalid_bars_naming_column_and_row(
    change: dict[str, Any], options: dict[str, Any], column: str, index: int | None
) -> None:
    with pytest.raises(InvalidInputError) as raised:
        check_bars({**GOOD, **change}, **options)

    assert raised.value.code == "invalid_bars"
    details = raised.value.details
    assert (details["field"], details["column"], details["index"]) == (f"bars.{column}", column, index)


def test_check_bars_on_inline_bars_built_without_validation_refuses_ragged_columns() -> None:
    """What the JSON fast path hands over (model_construct, no validators run) still meets the rules."""
    bars = InlineBars.model_construct(**{name: np.asarray(v) for name, v in {**GOOD, "close": [1.5]}.items()})

    with pytest.raises(InvalidInputError) as raised:
        check_bars(bars.columns(), min_bars=1)

    assert raised.value.details["column"] == "close"


def test_check_bars_hands_on_arrays_of_the_right_type_uncopied() -> None:
    bars = InlineBars.model_validate_json(json.dumps(GOOD))

    checked = check_bars(bars.columns(), min_bars=1, positive=PRICE_COLUMNS)

    assert all(checked[name] is values for name, values in bars.columns().items())
