"""Candlestick detection: textbook candles are found, and on random data detections match TA-Lib."""

from __future__ import annotations

import numpy as np
import pytest
import talib

from services.pattern.core.candlesticks import BIAS, describe_patterns, detect_patterns
from services.pattern.core.catalog import Catalog
from services.pattern.core.spec import parse_specs

Candle = tuple[float, float, float, float]  # open, high, low, close


def _trend(n: int, start: float, step: float) -> list[Candle]:
    """`n` candles each opening at the last close and moving `step`, with 0.3 shadows."""
    rows, price = [], start
    for _ in range(n):
        close = price + step
        rows.append((price, max(price, close) + 0.3, min(price, close) - 0.3, close))
        price = close
    return rows


def _bars(rows: list[Candle]) -> dict[str, np.ndarray]:
    data = np.array(rows, dtype=np.float64)
    time = 1_700_000_000 + 900 * np.arange(len(rows), dtype=np.int64)
    return {"time": time, "open": data[:, 0], "high": data[:, 1], "low": data[:, 2], "close": data[:, 3]}


TEXTBOOK = {
    "bullish engulfing": (
        [*_trend(15, 30, -1), (15.0, 15.2, 13.8, 14.0), (13.8, 15.5, 13.6, 15.3)],
        "CDLENGULFING",
        "bullish",
    ),
    "bearish engulfing": (
        [*_trend(15, 0, 1), (15.0, 16.2, 14.8, 16.0), (16.2, 16.4, 14.5, 14.7)],
        "CDLENGULFING",
        "bearish",
    ),
    "hammer": (
        [*_trend(15, 30, -1), (15.0, 15.1, 13.9, 14.0), (13.3, 13.85, 11.5, 13.8)],
        "CDLHAMMER",
        "bullish",
    ),
    "hanging man": (
        [*_trend(15, 0, 1), (15.0, 16.1, 14.9, 16.0), (16.0, 16.55, 14.3, 16.5)],
        "CDLHANGINGMAN",
        "bearish",
    ),
    "shooting star": (
        [*_trend(15, 0, 1), (15.0, 16.1, 14.9, 16.0), (16.8, 18.5, 16.25, 16.3)],
        "CDLSHOOTINGSTAR",
        "bearish",
    ),
    "doji": ([*_trend(15, 0, 1), (15.0, 15.8, 14.2, 15.0)], "CDLDOJI", "neutral"),
    "morning star": (
        [*_trend(15, 30, -1), (15.0, 15.1, 12.4, 12.5), (12.0, 12.2, 11.6, 11.9), (12.3, 14.6, 12.2, 14.5)],
        "CDLMORNINGSTAR",
        "bullish",
    ),
    "three white soldiers": (
        [
            *_trend(15, 30, -0.5),
            (22.5, 23.55, 22.45, 23.5),
            (23.2, 24.55, 23.15, 24.5),
            (24.2, 25.55, 24.15, 25.5),
        ],
        "CDL3WHITESOLDIERS",
        "bullish",
    ),
}


def test_bias_table_covers_exactly_talibs_patterns(candlesticks: Catalog) -> None:
    assert set(BIAS) == set(candlesticks)


def test_describe_patterns_lists_61_with_description_and_direction(candlesticks: Catalog) -> None:
    described = describe_patterns(candlesticks)
    assert len(described) == 61
    hammer = next(p for p in described if p["name"] == "CDLHAMMER")
    assert hammer == {"name": "CDLHAMMER", "description": "Hammer", "direction": "bullish", "parameters": []}
    assert {p["direction"] for p in described} == {"bullish", "bearish", "both", "neutral"}


@pytest.mark.parametrize("case", list(TEXTBOOK))
def test_detect_textbook_candle_found_on_last_bar(candlesticks: Catalog, case: str) -> None:
    rows, pattern, direction = TEXTBOOK[case]
    bars = _bars(rows)
    found = detect_patterns(parse_specs(",".join(candlesticks), candlesticks), bars).since(len(rows) - 1)
    hits = {(p, d) for p, d in zip(found.pattern, found.direction, strict=True)}
    assert (pattern, direction) in hits
    assert set(found.time.tolist()) == {int(bars["time"][-1])}


def test_detect_hammer_not_found_in_plain_trend(candlesticks: Catalog) -> None:
    found = detect_patterns(parse_specs("hammer,engulfing", candlesticks), _bars(_trend(30, 30, -1)))
    assert len(found) == 0


def test_detect_matches_talib_raw_output_on_random_data(
    candlesticks: Catalog, random_bars: dict[str, np.ndarray]
) -> None:
    specs = parse_specs(",".join(candlesticks), candlesticks)
    found = detect_patterns(specs, random_bars)
    ohlc = [random_bars[k] for k in ("open", "high", "low", "close")]
    for spec in specs:
        raw = getattr(talib, spec.name)(*ohlc)
        mine = np.array([p == spec.name for p in found.pattern], dtype=bool)
        np.testing.assert_array_equal(found.index[mine], np.flatnonzero(raw), err_msg=spec.name)
        np.testing.assert_array_equal(found.strength[mine], np.abs(raw[raw != 0]), err_msg=spec.name)
        directions = np.array(found.direction, dtype=object)[mine]
        bias = BIAS[spec.name]
        expected = np.where(raw[raw != 0] > 0, "bullish", "bearish") if bias == "both" else bias
        assert (directions == expected).all(), spec.name


def test_detect_one_sided_patterns_agree_with_talib_sign_where_it_has_one(
    candlesticks: Catalog, random_bars: dict[str, np.ndarray]
) -> None:
    # TA-Lib reports these +100 whatever their reading; every other one-sided pattern signs its direction.
    unsigned = {"CDLGRAVESTONEDOJI"}
    ohlc = [random_bars[k] for k in ("open", "high", "low", "close")]
    for name, bias in BIAS.items():
        if bias in ("bullish", "bearish") and name not in unsigned:
            raw = getattr(talib, name)(*ohlc)
            assert (raw >= 0).all() if bias == "bullish" else (raw <= 0).all(), name


def test_detections_ordered_by_bar_then_spec_order(
    candlesticks: Catalog, random_bars: dict[str, np.ndarray]
) -> None:
    found = detect_patterns(parse_specs("doji,spinningtop,engulfing", candlesticks), random_bars)
    rank = {"CDLDOJI": 0, "CDLSPINNINGTOP": 1, "CDLENGULFING": 2}
    keys = list(zip(found.index.tolist(), [rank[p] for p in found.pattern], strict=True))
    assert keys == sorted(keys) and len(keys) > 0


def test_detections_to_records_shape(candlesticks: Catalog) -> None:
    rows, _, _ = TEXTBOOK["hammer"]
    bars = _bars(rows)
    records = detect_patterns(parse_specs("hammer", candlesticks), bars).to_records()
    assert records == [
        {
            "time": int(bars["time"][-1]),
            "pattern": "CDLHAMMER",
            "label": "CDLHAMMER",
            "direction": "bullish",
            "strength": 100,
        }
    ]


def test_detect_no_specs_gives_empty(random_bars: dict[str, np.ndarray]) -> None:
    found = detect_patterns([], random_bars)
    assert len(found) == 0 and found.to_records() == []
