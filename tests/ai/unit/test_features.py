"""Features and labels: no look-ahead, look-back rows, column names, label classes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.ai.core.labels import DirectionLabel, ReturnLabel, make_labels
from shared.ml.features import build_features, feature_columns, features_lookback, parse_features
from tests.ai.support import planted_bars

ALL_FEATURES = parse_features(
    [
        {"name": "returns", "window": 3, "lag": 2},
        {"name": "rsi", "period": 14},
        {"name": "macd", "fast": 12, "slow": 26, "signal": 9},
        {"name": "atr", "period": 14},
        {"name": "bollinger_width", "period": 20},
        {"name": "volatility", "window": 10},
        {"name": "time_of_day"},
        {"name": "day_of_week"},
    ]
)
N = 300
BARS = planted_bars(N, seed=11)


@settings(max_examples=25, deadline=None)
@given(cut=st.integers(min_value=0, max_value=N - 2), factor=st.floats(min_value=0.5, max_value=2.0))
def test_features_later_bars_changed_rows_up_to_cut_unchanged(cut: int, factor: float) -> None:
    changed = {k: v.copy() for k, v in BARS.items()}
    for name in ("open", "high", "low", "close"):
        changed[name][cut + 1 :] *= factor
    full = build_features(BARS, ALL_FEATURES)
    live = build_features({k: v[: cut + 1] for k, v in BARS.items()}, ALL_FEATURES)

    np.testing.assert_array_equal(build_features(changed, ALL_FEATURES)[: cut + 1], full[: cut + 1])
    np.testing.assert_array_equal(live, full[: cut + 1])  # live on the last bar = backtest at that bar


def test_features_rows_before_lookback_nan_after_finite() -> None:
    matrix = build_features(BARS, ALL_FEATURES)
    lookback = features_lookback(ALL_FEATURES)

    assert lookback == 26 + 9 - 2  # MACD's is the longest
    assert np.isnan(matrix[:lookback]).all()
    assert np.isfinite(matrix[lookback:]).all()
    assert matrix.shape == (N, len(feature_columns(ALL_FEATURES)))


def test_features_time_of_day_midnight_and_noon_opposite() -> None:
    bars = {**planted_bars(2), "time": np.array([1_704_067_200, 1_704_067_200 + 43_200])}
    sin, cos = build_features(bars, parse_features([{"name": "time_of_day"}])).T
    np.testing.assert_allclose([sin[0], cos[0], cos[1]], [0.0, 1.0, -1.0], atol=1e-12)


def test_features_day_of_week_monday_zero() -> None:
    monday = 1_704_067_200  # 2024-01-01 was a Monday
    bars = {**planted_bars(1), "time": np.array([monday])}
    sin, cos = build_features(bars, parse_features([{"name": "day_of_week"}]))[0]
    assert sin == pytest.approx(0.0, abs=1e-12) and cos == pytest.approx(1.0)


def test_features_returns_equal_log_ratio() -> None:
    matrix = build_features(BARS, parse_features([{"name": "returns", "window": 2, "lag": 1}]))
    close = BARS["close"]
    assert matrix[10, 0] == pytest.approx(np.log(close[9] / close[7]))


def test_feature_columns_repeated_spec_refused() -> None:
    with pytest.raises(ValueError, match="returns_1"):
        feature_columns(parse_features([{"name": "returns"}, {"name": "returns", "window": 1}]))


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"name": "rsi", "period": 1}, "period"),
        ({"name": "macd", "fast": 30, "slow": 20}, "macd"),
        ({"name": "nope"}, "name"),
        ({"name": "atr", "window": 3}, "window"),
    ],
)
def test_parse_features_invalid_names_the_field(spec: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        parse_features([spec])
    assert field in str(exc.value)


def test_direction_labels_threshold_gives_three_classes_and_nan_tail() -> None:
    close = np.array([100.0, 101.0, 101.01, 100.0, 100.0])
    labels = make_labels(close, DirectionLabel(horizon=1, threshold=0.001))
    np.testing.assert_array_equal(labels[:4], [1.0, 0.0, -1.0, 0.0])
    assert np.isnan(labels[4])


def test_return_labels_horizon_two() -> None:
    close = np.array([100.0, 110.0, 121.0, 100.0])
    labels = make_labels(close, ReturnLabel(horizon=2))
    np.testing.assert_allclose(labels[:2], [np.log(1.21), np.log(100 / 110)])
    assert np.isnan(labels[2:]).all()
