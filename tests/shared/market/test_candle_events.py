"""The candle.closed payload: what the data service writes, the pattern and strategy services read back."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest

from shared.market.candle_events import bar_from_candle, candle_closed, read_candle
from shared.market.records import RATES_DTYPE


def test_a_bar_survives_the_payload_and_json_exactly() -> None:
    bar = np.array([(1_704_880_800, 1.10001, 1.10042, 1.09987, 1.10013, 152, 7, 0)], dtype=RATES_DTYPE)[0]
    payload = orjson.loads(
        orjson.dumps(candle_closed("EURUSD", "M1", bar, market_ms=1_704_880_861_250, backfill=False).wire())
    )
    assert (payload["symbol"], payload["timeframe"]) == ("EURUSD", "M1")
    assert bar_from_candle(payload)[0] == bar
    candle = read_candle(payload)
    assert candle is not None
    assert (candle.time, candle.market_ms, candle.backfill) == (1_704_880_800, 1_704_880_861_250, False)


@pytest.mark.parametrize(("flag", "backfill"), [(False, False), (True, True), (None, True), ("no", True)])
def test_only_an_explicit_false_reads_as_a_live_candle(flag: Any, backfill: bool) -> None:
    bar = {"time": 60, "open": 1.1, "high": 1.2, "low": 1.0, "close": 1.1}
    candle = read_candle({"symbol": "eurusd", "timeframe": "m1", "bar": bar, "backfill": flag})
    assert candle is not None and candle.backfill is backfill and candle.symbol == "EURUSD"


def test_a_payload_without_the_flag_reads_as_a_backfill_without_a_market_time() -> None:
    bar = {"time": 60, "open": 1.1, "high": 1.2, "low": 1.0, "close": 1.1}
    candle = read_candle({"symbol": "EURUSD", "timeframe": "M1", "bar": bar})
    assert candle is not None and (candle.backfill, candle.market_ms) == (True, None)


@pytest.mark.parametrize("market_ms", [-1, 1.5, "1000"])
def test_a_candle_with_a_malformed_market_time_reads_as_none(market_ms: Any) -> None:
    bar = {"time": 60, "open": 1.1, "high": 1.2, "low": 1.0, "close": 1.1}
    assert read_candle({"bar": bar, "market_ms": market_ms, "backfill": False}) is None


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
