"""The deterministic market's ticks: MT5 shape, plausibility, and purity (same inputs, same ticks)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.mt5.core.simulated.market import HOUR_MS, MINUTE_MS, DeterministicMarket
from shared.market import mt5_constants as mt5
from shared.market.calendar import FX_CALENDAR
from shared.market.records import TICKS_DTYPE
from shared.market.symbols import DEFAULT_SYMBOLS

WEDNESDAY_MS = 1_763_510_400_000  # 2025-11-19 00:00 UTC
SATURDAY_MS = 1_763_769_600_000  # 2025-11-22 00:00 UTC
DAY_MS = 86_400_000


@pytest.fixture(scope="module")
def market() -> DeterministicMarket:
    return DeterministicMarket(DEFAULT_SYMBOLS, seed=7)


@pytest.fixture(scope="module")
def eurusd_day(market: DeterministicMarket) -> np.ndarray:
    return market.ticks("EURUSD", WEDNESDAY_MS, WEDNESDAY_MS + DAY_MS)


def test_ticks_dtype_is_mt5_exactly(eurusd_day: np.ndarray) -> None:
    assert eurusd_day.dtype == TICKS_DTYPE
    assert eurusd_day.dtype.names == (
        "time",
        "bid",
        "ask",
        "last",
        "volume",
        "time_msc",
        "flags",
        "volume_real",
    )


def test_ticks_day_is_sorted_and_inside_range(eurusd_day: np.ndarray) -> None:
    times = eurusd_day["time_msc"]
    assert np.all(np.diff(times) >= 0)
    assert times[0] >= WEDNESDAY_MS and times[-1] < WEDNESDAY_MS + DAY_MS
    assert np.array_equal(eurusd_day["time"], times // 1000)


def test_ticks_arrival_is_several_per_second_and_irregular(eurusd_day: np.ndarray) -> None:
    per_second = np.bincount((eurusd_day["time_msc"] - WEDNESDAY_MS) // 1000, minlength=86_400)
    assert 2.0 < per_second.mean() < 8.0
    assert per_second.max() >= 12 and (per_second == 0).any()
    assert (np.diff(eurusd_day["time_msc"]) == 0).sum() > 10  # several ticks in one millisecond


@pytest.mark.parametrize("spec", DEFAULT_SYMBOLS, ids=lambda s: s.name)
def test_ticks_prices_on_digit_grid_with_bid_below_ask(market: DeterministicMarket, spec) -> None:
    ticks = market.ticks(spec.name, WEDNESDAY_MS + 10 * HOUR_MS, WEDNESDAY_MS + 11 * HOUR_MS)
    assert len(ticks) > 5_000
    assert np.all(ticks["bid"] < ticks["ask"])
    for column in ("bid", "ask"):
        assert np.array_equal(np.round(ticks[column], spec.digits), ticks[column])
    spread = np.rint((ticks["ask"] - ticks["bid"]) / spec.point)
    assert len(np.unique(spread)) > 3  # a varying spread ...
    assert abs(np.median(spread) - spec.spread_points) <= 0.25 * spec.spread_points  # ... around the typical
    assert abs(np.log(ticks["bid"][-1] / spec.base_price)) < 1.0  # plausible: not wandered off by e-fold


def test_ticks_fx_quotes_have_no_trade_fields_and_flag_changed_sides(eurusd_day: np.ndarray) -> None:
    assert (
        not eurusd_day["last"].any()
        and not eurusd_day["volume"].any()
        and not eurusd_day["volume_real"].any()
    )
    flags = eurusd_day["flags"]
    assert set(np.unique(flags).tolist()) <= {
        mt5.TICK_FLAG_BID,
        mt5.TICK_FLAG_ASK,
        mt5.TICK_FLAG_BID | mt5.TICK_FLAG_ASK,
    }
    bid_changed = np.r_[True, eurusd_day["bid"][1:] != eurusd_day["bid"][:-1]]
    assert np.all((flags & mt5.TICK_FLAG_BID != 0) >= bid_changed)  # every bid move is flagged


def test_ticks_saturday_has_none(market: DeterministicMarket) -> None:
    assert len(market.ticks("EURUSD", SATURDAY_MS, SATURDAY_MS + DAY_MS)) == 0


def test_ticks_week_closes_friday_22_and_opens_sunday_22(market: DeterministicMarket) -> None:
    friday, sunday = SATURDAY_MS - DAY_MS, SATURDAY_MS + DAY_MS
    week_end = market.ticks("EURUSD", friday, sunday + DAY_MS)
    seconds = week_end["time_msc"] // 1000
    friday_s, sunday_s = friday // 1000, sunday // 1000
    assert FX_CALENDAR.is_open_array(seconds).all()
    assert friday_s + 21 * 3600 <= seconds[seconds < sunday_s].max() < friday_s + 22 * 3600
    assert sunday_s + 22 * 3600 <= seconds[seconds >= sunday_s].min() < sunday_s + 22 * 3600 + 60


def test_ticks_summer_week_closes_friday_21_and_opens_sunday_21(market: DeterministicMarket) -> None:
    friday, sunday = 1_720_742_400_000, 1_720_915_200_000  # 2024-07-12 and 2024-07-14 00:00 UTC
    week_end = market.ticks("EURUSD", friday, sunday + DAY_MS)
    seconds = week_end["time_msc"] // 1000
    friday_s, sunday_s = friday // 1000, sunday // 1000
    assert friday_s + 20 * 3600 <= seconds[seconds < sunday_s].max() < friday_s + 21 * 3600
    assert sunday_s + 21 * 3600 <= seconds[seconds >= sunday_s].min() < sunday_s + 21 * 3600 + 60
    # The newest tick seen on a summer Saturday is Friday's last, before 21:00.
    last = market.last_tick("EURUSD", friday + DAY_MS + 12 * 3_600_000)
    assert last is not None and friday_s + 20 * 3600 <= int(last["time_msc"]) // 1000 < friday_s + 21 * 3600


def test_ticks_same_range_twice_identical(market: DeterministicMarket) -> None:
    a = market.ticks("GBPUSD", WEDNESDAY_MS + 3 * HOUR_MS, WEDNESDAY_MS + 5 * HOUR_MS)
    b = market.ticks("GBPUSD", WEDNESDAY_MS + 3 * HOUR_MS, WEDNESDAY_MS + 5 * HOUR_MS)
    assert np.array_equal(a, b)


def test_ticks_fresh_market_same_seed_identical_other_seed_different(eurusd_day: np.ndarray) -> None:
    restarted = DeterministicMarket(DEFAULT_SYMBOLS, seed=7).ticks(
        "EURUSD", WEDNESDAY_MS, WEDNESDAY_MS + DAY_MS
    )
    assert np.array_equal(restarted, eurusd_day)
    other = DeterministicMarket(DEFAULT_SYMBOLS, seed=8).ticks("EURUSD", WEDNESDAY_MS, WEDNESDAY_MS + HOUR_MS)
    assert not np.array_equal(other, eurusd_day[: len(other)])


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(0, 2 * HOUR_MS), min_size=1, max_size=4))
def test_ticks_range_equals_concatenated_subranges(market: DeterministicMarket, cuts: list[int]) -> None:
    start = WEDNESDAY_MS + 13 * HOUR_MS + 17
    end = start + 2 * HOUR_MS
    bounds = [start, *sorted(start + c for c in cuts), end]
    pieces = [market.ticks("USDJPY", a, b) for a, b in itertools.pairwise(bounds)]
    assert np.array_equal(np.concatenate(pieces), market.ticks("USDJPY", start, end))


def test_ticks_forward_returns_first_count_after_weekend(market: DeterministicMarket) -> None:
    ticks = market.ticks_forward("EURUSD", SATURDAY_MS, 1000, until_ms=SATURDAY_MS + 3 * DAY_MS)
    sunday_open = SATURDAY_MS + DAY_MS + 22 * HOUR_MS
    assert len(ticks) == 1000
    assert np.array_equal(ticks, market.ticks("EURUSD", sunday_open, ticks["time_msc"][-1] + 1)[:1000])


def test_ticks_forward_stops_at_until(market: DeterministicMarket) -> None:
    until = WEDNESDAY_MS + MINUTE_MS
    ticks = market.ticks_forward("EURUSD", WEDNESDAY_MS, 10**6, until_ms=until)
    assert np.array_equal(ticks, market.ticks("EURUSD", WEDNESDAY_MS, until))


def test_last_tick_is_latest_before_until(market: DeterministicMarket) -> None:
    until = WEDNESDAY_MS + 9 * HOUR_MS + 123_456
    expected = market.ticks("EURUSD", until - MINUTE_MS, until)[-1]
    assert market.last_tick("EURUSD", until) == expected


def test_last_tick_on_saturday_is_fridays_close(market: DeterministicMarket) -> None:
    tick = market.last_tick("EURUSD", SATURDAY_MS + 12 * HOUR_MS)
    friday_close_ms = SATURDAY_MS - 2 * HOUR_MS
    assert tick is not None and friday_close_ms - MINUTE_MS <= tick["time_msc"] < friday_close_ms


def test_last_tick_before_history_start_is_none() -> None:
    market = DeterministicMarket(DEFAULT_SYMBOLS, seed=1, history_start_s=WEDNESDAY_MS // 1000)
    assert market.last_tick("EURUSD", WEDNESDAY_MS) is None
    assert len(market.ticks("EURUSD", WEDNESDAY_MS - DAY_MS, WEDNESDAY_MS)) == 0


@settings(max_examples=20, deadline=None)
@given(minute=st.integers(0, 1439))
def test_ticks_one_minute_alone_equals_its_slice_of_the_day(
    market: DeterministicMarket, eurusd_day: np.ndarray, minute: int
) -> None:
    start = WEDNESDAY_MS + minute * MINUTE_MS
    times = eurusd_day["time_msc"]
    in_day = eurusd_day[np.searchsorted(times, start) : np.searchsorted(times, start + MINUTE_MS)]
    assert np.array_equal(market.ticks("EURUSD", start, start + MINUTE_MS), in_day)
