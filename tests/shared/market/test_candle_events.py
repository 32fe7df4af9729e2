"""The candle.closed payload: what the data service writes, the pattern and strategy services read back."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from shared.market.candle_events import bar_from_candle, candle_closed
from shared.market.records import RATES_DTYPE


def test_a_bar_survives_the_payload_and_json_exactly() -> None:
    bar = np.array([(1_704_880_800, 1.10001, 1.10042, 1.09987, 1.10013, 152, 7, 0)], dtype=RATES_DTYPE)[0]
    payload = orjson.loads(orjson.dumps(candle_closed("EURUSD", "M1", bar)))
    assert (payload["symbol"], payload["timeframe"]) == ("EURUSD", "M1")
    assert bar_from_candle(payload)[0] == bar


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"bar": [1, 2, 3]},
        {"bar": {"time": 60, "open": 1.1, "high": 1.2, "low": 1.0}},  # no close
        {"bar": {"time": 60, "open": "x", "high": 1.2, "low": 1.0, "close": 1.1}},
    ],
)
def test_a_malformed_payload_reads_as_none(payload: dict[str, Any]) -> None:
    assert bar_from_candle(payload) is None


def test_volumes_and_spread_default_to_zero() -> None:
    record = bar_from_candle({"bar": {"time": 60, "open": 1.1, "high": 1.2, "low": 1.0, "close": 1.1}})
    assert record is not None and (record["tick_volume"][0], record["spread"][0]) == (0, 0)
