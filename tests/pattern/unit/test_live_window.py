"""The live detector's premise: TA-Lib's verdict on a bar needs only the look-back bars before it."""

from __future__ import annotations

import numpy as np

from services.pattern.core.candlesticks import detect_patterns
from services.pattern.core.catalog import Catalog
from services.pattern.core.compute import max_lookback
from services.pattern.core.spec import parse_specs
from tests.pattern.unit.conftest import make_bars


def test_detect_patterns_window_of_lookback_plus_one_matches_whole_series_on_last_bar(
    candlesticks: Catalog,
) -> None:
    specs = parse_specs(",".join(candlesticks), candlesticks, max_specs=len(candlesticks))
    size = max_lookback(specs) + 1
    bars = make_bars(600, seed=21)
    full = detect_patterns(specs, bars)
    checked = 0

    for end in range(size, len(bars["time"]) + 1):
        window = {name: values[end - size : end] for name, values in bars.items()}
        last = detect_patterns(specs, window).since(size - 1).to_records()
        at_bar = full.index == end - 1
        expected = [r for r, keep in zip(full.to_records(), at_bar, strict=True) if keep]
        assert last == expected, end
        checked += len(last)

    assert checked > 100  # the comparison saw many detections, not only empty bars
    assert np.count_nonzero(full.index >= size - 1) == checked
