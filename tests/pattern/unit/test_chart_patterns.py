"""Chart-pattern rules on constructed series: swings, levels, pivots, double tops and bottoms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from services.pattern.core.chart_patterns import (
    Swings,
    double_bottoms,
    double_tops,
    period_pivots,
    pivot_points,
    support_resistance,
    swing_points,
)
from shared.market.timeframes import get_timeframe


def _path(points: list[tuple[int, float]]) -> np.ndarray:
    """A close series moving in straight lines through (bar, price) points."""
    bars = np.arange(points[-1][0] + 1)
    return np.interp(bars, [b for b, _ in points], [p for _, p in points])


def _ohlc(close: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return close + 0.1, close - 0.1, close


def _naive_peaks(x: np.ndarray, left: int, right: int) -> list[int]:
    return [
        i
        for i in range(left, len(x) - right)
        if all(x[i] > x[j] for j in range(i - left, i))
        and all(x[i] >= x[j] for j in range(i + 1, i + right + 1))
    ]


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, st.integers(0, 60), elements=st.integers(0, 20).map(float)),
    st.integers(1, 4),
    st.integers(1, 4),
)
def test_swing_points_match_the_fractal_rule(x: np.ndarray, left: int, right: int) -> None:
    swings = swing_points(x, x - 1, left=left, right=right)
    assert swings.high_index.tolist() == _naive_peaks(x, left, right)
    assert swings.low_index.tolist() == _naive_peaks(-(x - 1), left, right)
    np.testing.assert_array_equal(swings.high_price, x[swings.high_index])


def test_swing_points_on_zigzag_find_each_turn() -> None:
    high, low, _ = _ohlc(_path([(0, 100), (10, 110), (20, 100), (30, 112), (40, 98), (45, 101)]))
    swings = swing_points(high, low, left=3, right=3)
    assert swings.high_index.tolist() == [10, 30]
    assert swings.low_index.tolist() == [20, 40]


def test_swing_points_flat_top_counts_once_at_first_bar() -> None:
    x = np.array([1, 2, 5, 5, 5, 2, 1], dtype=np.float64)
    assert swing_points(x, x, left=2, right=2).high_index.tolist() == [2]


def _swings(highs: list[tuple[int, float]], lows: list[tuple[int, float]]) -> Swings:
    return Swings(
        np.array([i for i, _ in highs]),
        np.array([p for _, p in highs]),
        np.array([i for i, _ in lows]),
        np.array([p for _, p in lows]),
    )


def test_support_resistance_clusters_touches_within_tolerance() -> None:
    swings = _swings(
        [(5, 110.0), (25, 110.1), (45, 109.95), (60, 120.0)], [(15, 100.0), (35, 100.05), (50, 95.0)]
    )
    levels = support_resistance(swings, last_close=105.0, tolerance=0.002, min_touches=2)
    assert [(lv.kind, lv.touches) for lv in levels] == [("resistance", 3), ("support", 2)]
    assert levels[0].price == pytest.approx((110.0 + 110.1 + 109.95) / 3)
    assert (levels[0].first_index, levels[0].last_index, levels[0].strength) == (5, 45, 1.0)
    assert levels[1].strength == pytest.approx(2 / 3)


def test_support_resistance_prices_beyond_tolerance_stay_apart() -> None:
    swings = _swings([(5, 110.0), (25, 110.5)], [])
    assert support_resistance(swings, last_close=100.0, tolerance=0.002) == []
    assert len(support_resistance(swings, last_close=100.0, tolerance=0.005)) == 1


def test_pivot_points_textbook_values() -> None:
    classic = pivot_points(110.0, 100.0, 105.0, "classic")
    assert classic == pytest.approx(
        {"P": 105, "R1": 110, "S1": 100, "R2": 115, "S2": 95, "R3": 120, "S3": 90}
    )
    fib = pivot_points(110.0, 100.0, 105.0, "fibonacci")
    assert fib == pytest.approx(
        {"P": 105, "R1": 108.82, "S1": 101.18, "R2": 111.18, "S2": 98.82, "R3": 115, "S3": 95}
    )
    cam = pivot_points(110.0, 100.0, 105.0, "camarilla")
    assert cam["R4"] == pytest.approx(105 + 5.5) and cam["S1"] == pytest.approx(105 - 11 / 12)
    assert set(cam) == {"P", "R1", "R2", "R3", "R4", "S1", "S2", "S3", "S4"}


def test_pivot_points_unknown_method_raises() -> None:
    with pytest.raises(ValueError):
        pivot_points(1.0, 0.0, 0.5, "woodie")  # type: ignore[arg-type]


def test_period_pivots_use_the_previous_day() -> None:
    day = 86400
    time = 1_700_006_400 + 900 * np.arange(96 * 3, dtype=np.int64)  # 1_700_006_400 is a UTC midnight
    rng = np.random.default_rng(3)
    close = 100 + np.cumsum(rng.normal(0, 0.1, len(time)))
    high, low = close + 0.05, close - 0.05
    pivots = period_pivots(time, high, low, close, get_timeframe("D1"), "classic")
    assert [p["time"] for p in pivots] == [1_700_006_400 + day, 1_700_006_400 + 2 * day]
    first_day = slice(0, 96)
    expected = pivot_points(high[first_day].max(), low[first_day].min(), close[95], "classic")
    assert pivots[0]["based_on"] == 1_700_006_400
    assert {k: pivots[0][k] for k in expected} == pytest.approx(expected)


DOUBLE_TOP = [(0, 100), (20, 110), (35, 104), (50, 110.2), (70, 100)]


def _tops(points: list[tuple[int, float]]) -> list:
    high, low, close = _ohlc(_path(points))
    return double_tops(
        high, low, close, swing_points(high, low, left=3, right=3), tolerance=0.005, min_depth=0.01
    )


def test_double_top_clean_is_detected_and_confirmed_at_neckline_break() -> None:
    (found,) = _tops(DOUBLE_TOP)
    assert (found.kind, found.first_index, found.second_index, found.neckline_index) == (
        "double_top",
        20,
        50,
        35,
    )
    assert found.neckline == pytest.approx(103.9) and found.peak == pytest.approx(110.3)
    close = _path(DOUBLE_TOP)
    assert close[found.confirm_index] < 103.9 <= close[found.confirm_index - 1]


@pytest.mark.parametrize(
    ("case", "points"),
    [
        ("second top too high", [(0, 100), (20, 110), (35, 104), (50, 112), (70, 100)]),
        ("trough too shallow", [(0, 100), (20, 110), (35, 109.5), (50, 110.2), (70, 100)]),
        ("never breaks the neckline", [(0, 100), (20, 110), (35, 104), (50, 110.2), (60, 106), (90, 106.5)]),
        (
            "breaks out above first",
            [(0, 100), (20, 110), (35, 104), (50, 110.2), (56, 108), (62, 113), (90, 100)],
        ),
        (
            "breaks the neckline too late",
            [(0, 100), (20, 110), (35, 104), (50, 110.2), (55, 105), (100, 104.5), (110, 100)],
        ),
    ],
)
def test_double_top_near_miss_not_detected(case: str, points: list[tuple[int, float]]) -> None:
    assert _tops(points) == [], case


def test_double_bottom_mirror_is_detected() -> None:
    close = 220 - _path(DOUBLE_TOP)
    high, low = close + 0.1, close - 0.1
    swings = swing_points(high, low, left=3, right=3)
    (found,) = double_bottoms(high, low, close, swings, tolerance=0.005, min_depth=0.01)
    assert (found.kind, found.first_index, found.second_index, found.neckline_index) == (
        "double_bottom",
        20,
        50,
        35,
    )
    assert found.peak == pytest.approx(220 - 110.3) and found.neckline == pytest.approx(220 - 103.9)
    assert double_tops(high, low, close, swings) == []
