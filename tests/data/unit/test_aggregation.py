"""Aggregating lower bars equals building the higher bars from the ticks themselves."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from services.data.core.aggregation import best_source, divides
from shared.market.bars import aggregate_bars, ticks_to_bars
from shared.market.timeframes import TIMEFRAMES
from tests.data.unit.factories import POINT, make_ticks


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3_000),
    seed=st.integers(0, 2**16),
    step=st.sampled_from([50, 5_000, 400_000]),
    pair=st.sampled_from(
        [("M1", "M5"), ("M1", "H1"), ("M5", "H4"), ("H1", "D1"), ("D1", "W1"), ("H4", "MN1")]
    ),
)
def test_aggregate_bars_of_lower_timeframe_equal_ticks_to_bars(
    n: int, seed: int, step: int, pair: tuple[str, str]
) -> None:
    ticks = make_ticks(n, seed=seed, max_step_ms=step)
    lower, higher = TIMEFRAMES[pair[0]], TIMEFRAMES[pair[1]]
    built = aggregate_bars(ticks_to_bars(ticks, lower, POINT), higher)
    assert np.array_equal(built, ticks_to_bars(ticks, higher, POINT))


def test_divides_rejects_misaligned_pairs() -> None:
    assert divides(TIMEFRAMES["M20"], TIMEFRAMES["H1"])
    assert not divides(TIMEFRAMES["W1"], TIMEFRAMES["MN1"])  # weeks straddle month ends
    assert not divides(TIMEFRAMES["M30"], TIMEFRAMES["M30"])
    assert not divides(TIMEFRAMES["H4"], TIMEFRAMES["H6"])


def test_best_source_picks_largest_dividing_stored_timeframe() -> None:
    stored = ["M1", "M5", "M15", "M30", "H1", "H4", "D1"]
    assert best_source(TIMEFRAMES["H2"], stored) == TIMEFRAMES["H1"]
    assert best_source(TIMEFRAMES["M10"], stored) == TIMEFRAMES["M5"]
    assert best_source(TIMEFRAMES["MN1"], stored) == TIMEFRAMES["D1"]
    assert best_source(TIMEFRAMES["M1"], stored) is None
