"""Indicator computation equals TA-Lib called directly; lookback, windows and JSON encoding."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import talib

from services.pattern.core.catalog import Catalog
from services.pattern.core.compute import compute, encode_columns, lookback, max_lookback
from services.pattern.core.spec import parse_spec, parse_specs
from shared.errors import InvalidInputError


def _with_periods(bars: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """MAVP reads a `periods` series, which bars do not have: send one as an extra column."""
    return {**bars, "periods": np.full(len(bars["close"]), 12.0)}


def test_compute_every_indicator_with_defaults_equals_talib_directly(
    indicators: Catalog, random_bars: dict[str, np.ndarray]
) -> None:
    bars = _with_periods(random_bars)
    for name, info in indicators.items():
        spec = parse_spec(name, indicators)
        frame = compute([spec], bars)
        expected = getattr(talib, name)(*[bars[slot.column].astype(np.float64) for slot in info.inputs])
        expected = expected if isinstance(expected, tuple) else (expected,)
        assert list(frame.columns) == list(spec.output_columns), name
        for column, want in zip(spec.output_columns, expected, strict=True):
            np.testing.assert_array_equal(frame.columns[column], want, err_msg=name)


def test_compute_parameters_reach_talib(indicators: Catalog, random_bars: dict[str, np.ndarray]) -> None:
    frame = compute(parse_specs("BBANDS(10,1.5,2.5,EMA),SMA(7,price=high)", indicators), random_bars)
    _upper, _middle, lower = talib.BBANDS(random_bars["close"], 10, 1.5, 2.5, 1)
    np.testing.assert_array_equal(frame.columns["BBANDS_10_1.5_2.5_EMA_lowerband"], lower)
    np.testing.assert_array_equal(frame.columns["SMA_7_high"], talib.SMA(random_bars["high"], 7))


def test_compute_keeps_time_axis(indicators: Catalog, random_bars: dict[str, np.ndarray]) -> None:
    frame = compute(parse_specs("RSI", indicators), random_bars)
    np.testing.assert_array_equal(frame.time, random_bars["time"])
    assert len(frame) == len(random_bars["close"])


@pytest.mark.parametrize(
    ("text", "expected"), [("SMA(20)", 19), ("RSI(14)", 14), ("MACD(12,26,9)", 33), ("BBANDS", 19)]
)
def test_lookback_is_talibs(indicators: Catalog, text: str, expected: int) -> None:
    assert lookback(parse_spec(text, indicators)) == expected


def test_lookback_marks_first_value(indicators: Catalog, random_bars: dict[str, np.ndarray]) -> None:
    for text in ("SMA(20)", "MACD(12,26,9)", "ADX(14)", "T3(5)", "KAMA"):
        spec = parse_spec(text, indicators)
        column = compute([spec], random_bars).columns[spec.output_columns[0]]
        first = int(np.flatnonzero(~np.isnan(column))[0])
        assert first == lookback(spec), text


def test_max_lookback_takes_largest(indicators: Catalog) -> None:
    assert max_lookback(parse_specs("SMA(20),SMA(50),RSI", indicators)) == 49
    assert max_lookback([]) == 0


def test_window_after_lookback_has_values_everywhere(
    indicators: Catalog, random_bars: dict[str, np.ndarray]
) -> None:
    specs = parse_specs("SMA(50),MACD", indicators)
    start = 100 + max_lookback(specs)
    frame = compute(specs, random_bars).window(start_time=int(random_bars["time"][start]))
    assert frame.time[0] == random_bars["time"][start]
    assert all(not np.isnan(values).any() for values in frame.columns.values())


def test_window_by_time_range_and_count(indicators: Catalog, random_bars: dict[str, np.ndarray]) -> None:
    frame = compute(parse_specs("SMA(5)", indicators), random_bars)
    time = random_bars["time"]
    ranged = frame.window(start_time=int(time[10]), end_time=int(time[19]))
    np.testing.assert_array_equal(ranged.time, time[10:20])
    last = frame.window(end_time=int(time[19]), count=3)
    np.testing.assert_array_equal(last.time, time[17:20])
    np.testing.assert_array_equal(last.columns["SMA_5"], frame.columns["SMA_5"][17:20])


def test_to_json_writes_nan_as_null(indicators: Catalog, random_bars: dict[str, np.ndarray]) -> None:
    frame = compute(parse_specs("SMA(3)", indicators), random_bars).slice(0, 4)
    decoded = orjson.loads(frame.to_json())
    assert decoded["time"] == random_bars["time"][:4].tolist()
    assert decoded["SMA_3"][:2] == [None, None]
    assert decoded["SMA_3"][2] == pytest.approx(random_bars["close"][:3].mean())


def test_encode_columns_infinities_are_null() -> None:
    assert orjson.loads(encode_columns({"a": np.array([np.inf, -np.inf, 1.5])})) == {"a": [None, None, 1.5]}


def test_compute_missing_column_names_indicator_and_column(
    indicators: Catalog, random_bars: dict[str, np.ndarray]
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compute(parse_specs("MAVP", indicators), random_bars)
    assert caught.value.code == "missing_input"
    assert caught.value.details["indicator"] == "MAVP" and caught.value.details["column"] == "periods"


def test_compute_columns_of_different_length_rejected(indicators: Catalog) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compute(parse_specs("SMA", indicators), {"close": np.ones(5), "time": np.arange(4)})
    assert caught.value.code == "invalid_bars"


def test_compute_empty_bars_gives_empty_columns(indicators: Catalog) -> None:
    frame = compute(parse_specs("MACD", indicators), {"time": np.empty(0, np.int64), "close": np.empty(0)})
    assert len(frame) == 0 and all(len(v) == 0 for v in frame.columns.values())


def test_compute_talib_bad_param_becomes_invalid_parameter(
    indicators: Catalog, random_bars: dict[str, np.ndarray]
) -> None:
    # minperiod > maxperiod passes each parameter's own range; TA-Lib rejects the combination.
    with pytest.raises(InvalidInputError) as caught:
        compute(parse_specs("MAVP(50,10)", indicators), _with_periods(random_bars))
    assert caught.value.code == "invalid_parameter" and caught.value.details["indicator"] == "MAVP"
