"""Bars of the deterministic market are exactly the OHLC of its ticks, whichever way they are built."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.mt5.core.simulated.market import MINUTE_MS, DeterministicMarket
from shared.market.bars import aggregate_bars, ticks_to_bars
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import TIMEFRAMES

WEDNESDAY_S = 1_763_510_400  # 2025-11-19 00:00 UTC
SATURDAY_S = 1_763_769_600
DAY_S = 86_400
FAR_FUTURE_MS = 10**15
POINT = 0.00001


@pytest.fixture(scope="module")
def market() -> DeterministicMarket:
    return DeterministicMarket(DEFAULT_SYMBOLS, seed=11)


@pytest.mark.parametrize(
    ("name", "span_s"), [("M1", 3 * 3600), ("M5", 6 * 3600), ("H1", DAY_S), ("D1", 2 * DAY_S)]
)
def test_rates_range_equals_ticks_to_bars(market: DeterministicMarket, name: str, span_s: int) -> None:
    tf = TIMEFRAMES[name]
    start = WEDNESDAY_S + 7 * 3600 if name != "D1" else WEDNESDAY_S
    bars = market.rates_range("EURUSD", tf, start, start + span_s - 1, FAR_FUTURE_MS)
    ticks = market.ticks("EURUSD", start * 1000, (start + span_s) * 1000)
    assert bars.dtype == RATES_DTYPE
    assert np.array_equal(bars, ticks_to_bars(ticks, tf, POINT))


def test_rates_range_week_bar_equals_ticks_to_bars(market: DeterministicMarket) -> None:
    sunday = SATURDAY_S + DAY_S
    w1 = TIMEFRAMES["W1"]
    bars = market.rates_range("XAUUSD", w1, sunday, sunday, FAR_FUTURE_MS)
    ticks = market.ticks("XAUUSD", sunday * 1000, (sunday + 7 * DAY_S) * 1000)
    assert len(bars) == 1 and np.array_equal(bars, ticks_to_bars(ticks, w1, 0.01))


def test_rates_range_partial_last_bar_stops_at_until(market: DeterministicMarket) -> None:
    until_ms = (WEDNESDAY_S + 10 * 3600) * 1000 + 25 * MINUTE_MS + 4321
    h1 = TIMEFRAMES["H1"]
    bars = market.rates_range("GBPUSD", h1, WEDNESDAY_S, WEDNESDAY_S + DAY_S, until_ms)
    ticks = market.ticks("GBPUSD", WEDNESDAY_S * 1000, until_ms)
    assert bars["time"][-1] == WEDNESDAY_S + 10 * 3600
    assert np.array_equal(bars, ticks_to_bars(ticks, h1, POINT))


def test_rates_range_open_time_bounds_are_inclusive(market: DeterministicMarket) -> None:
    m5 = TIMEFRAMES["M5"]
    start = WEDNESDAY_S + 12 * 3600
    bars = market.rates_range("EURUSD", m5, start + 1, start + 600, FAR_FUTURE_MS)
    assert bars["time"].tolist() == [start + 300, start + 600]


def test_rates_range_saturday_is_empty(market: DeterministicMarket) -> None:
    bars = market.rates_range("EURUSD", TIMEFRAMES["H1"], SATURDAY_S, SATURDAY_S + DAY_S - 1, FAR_FUTURE_MS)
    assert len(bars) == 0


def test_rates_from_cache_equal_freshly_generated(market: DeterministicMarket) -> None:
    h1 = TIMEFRAMES["H1"]
    first = market.rates_range("USDJPY", h1, WEDNESDAY_S, WEDNESDAY_S + DAY_S, FAR_FUTURE_MS)
    again = market.rates_range("USDJPY", h1, WEDNESDAY_S, WEDNESDAY_S + DAY_S, FAR_FUTURE_MS)
    uncached = DeterministicMarket(DEFAULT_SYMBOLS, seed=11, cache_hours=1)
    assert np.array_equal(first, again)
    assert np.array_equal(
        first, uncached.rates_range("USDJPY", h1, WEDNESDAY_S, WEDNESDAY_S + DAY_S, FAR_FUTURE_MS)
    )


def test_rates_back_counts_bars_over_the_weekend(market: DeterministicMarket) -> None:
    h1 = TIMEFRAMES["H1"]
    monday_3am = SATURDAY_S + 2 * DAY_S + 3 * 3600
    bars = market.rates_back("EURUSD", h1, monday_3am, 10, FAR_FUTURE_MS)
    # Monday 00..03 (4 bars), Sunday 22..23 (2 bars), then Friday 18..21.
    friday = SATURDAY_S - DAY_S
    expected = [friday + h * 3600 for h in range(18, 22)] + [SATURDAY_S + DAY_S + h * 3600 for h in (22, 23)]
    expected += [monday_3am - h * 3600 for h in (3, 2, 1, 0)]
    assert bars["time"].tolist() == expected


def test_rates_back_skip_drops_newest(market: DeterministicMarket) -> None:
    m1 = TIMEFRAMES["M1"]
    end = WEDNESDAY_S + 15 * 3600
    all_bars = market.rates_back("EURUSD", m1, end, 12, FAR_FUTURE_MS)
    skipped = market.rates_back("EURUSD", m1, end, 10, FAR_FUTURE_MS, skip=2)
    assert np.array_equal(skipped, all_bars[:10])


def _random_ticks(gaps: list[int], moves: list[int], spreads: list[int]) -> np.ndarray:
    ticks = np.zeros(len(gaps), dtype=TICKS_DTYPE)
    ticks["time_msc"] = 1_700_000_000_000 + np.cumsum(gaps)
    ticks["time"] = ticks["time_msc"] // 1000
    points = 100_000 + np.cumsum(moves)
    ticks["bid"] = points / 100_000
    ticks["ask"] = (points + np.asarray(spreads)) / 100_000
    return ticks


@settings(max_examples=60, deadline=None)
@given(
    data=st.integers(1, 300).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(0, 20 * 86_400_000), min_size=n, max_size=n),
            st.lists(st.integers(-30, 30), min_size=n, max_size=n),
            st.lists(st.integers(1, 40), min_size=n, max_size=n),
        )
    ),
    name=st.sampled_from(["M5", "M30", "H1", "H4", "D1", "W1", "MN1"]),
)
def test_aggregate_bars_of_m1_equals_ticks_to_bars(
    data: tuple[list[int], list[int], list[int]], name: str
) -> None:
    ticks = _random_ticks(*data)
    tf = TIMEFRAMES[name]
    m1 = ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT)
    assert np.array_equal(aggregate_bars(m1, tf), ticks_to_bars(ticks, tf, POINT))


def test_aggregate_bars_empty_input_gives_empty_rates() -> None:
    out = aggregate_bars(np.empty(0, dtype=RATES_DTYPE), TIMEFRAMES["H1"])
    assert out.dtype == RATES_DTYPE and len(out) == 0
