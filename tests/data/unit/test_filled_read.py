"""Reads fill each timeframe's missing ranges from lower stored timeframes, and say which holes remain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from services.data.core.bar_store import BarStore
from services.data.core.filled_read import read_covered
from shared.market.bars import aggregate_bars
from shared.market.timeframes import TIMEFRAMES
from tests.support.bars import m1_bars

TUESDAY = 1_704_153_600  # 2024-01-02 00:00 UTC
DAY = 86_400


def built(m1: np.ndarray, name: str) -> np.ndarray:
    return aggregate_bars(m1, TIMEFRAMES[name])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[BarStore]:
    bar_store = BarStore.in_directory(tmp_path, ["M1", "M5", "M15", "H1", "D1"])
    yield bar_store
    bar_store.engine.dispose()


@pytest.fixture
def gap_filled(store: BarStore) -> np.ndarray:
    """Tuesday and Wednesday gap-filled in M1 and H1; Thursday collected from ticks in every timeframe
    for its first hour only (so M5, M15 and D1 are 'stored', but only for Thursday)."""
    m1 = m1_bars(TUESDAY, 3 * 1440, seed=5)
    filled, today = m1[: 2 * 1440], m1[2 * 1440 : 2 * 1440 + 60]
    store.upsert("EURUSD", "M1", filled, "terminal")
    store.upsert("EURUSD", "H1", built(filled, "H1"), "terminal")
    store.save("EURUSD", {name: built(today, name) for name in ("M1", "M5", "M15", "H1", "D1")}, "ticks")
    return np.concatenate([filled, today])


@pytest.mark.parametrize("name", ["M5", "M15", "D1"])
def test_read_range_of_timeframe_stored_only_today_builds_gap_filled_days(
    store: BarStore, gap_filled: np.ndarray, name: str
) -> None:
    bars, coverage = read_covered(store, "EURUSD", name, TUESDAY, TUESDAY + 3 * DAY, None)
    np.testing.assert_array_equal(bars, built(gap_filled, name))
    assert coverage.count == len(bars)


def test_read_count_of_timeframe_stored_only_today_reaches_back_into_built_bars(
    store: BarStore, gap_filled: np.ndarray
) -> None:
    bars, _ = read_covered(store, "EURUSD", "M5", None, None, 100)
    np.testing.assert_array_equal(bars, built(gap_filled, "M5")[-100:])


def test_read_keeps_own_rows_where_they_exist(store: BarStore, gap_filled: np.ndarray) -> None:
    own = built(gap_filled[:60], "M5")[:1].copy()
    own["close"] += 0.001
    own["high"] += 0.001
    store.upsert("EURUSD", "M5", own, "import")
    bars, _ = read_covered(store, "EURUSD", "M5", TUESDAY, TUESDAY + 3600, None)
    assert bars[0] == own[0]
    np.testing.assert_array_equal(bars[1:], built(gap_filled[:60], "M5")[1:])


def test_read_over_a_hole_reports_it_against_the_calendar(store: BarStore) -> None:
    m1 = m1_bars(TUESDAY, 2 * 1440, seed=5)
    store.upsert("EURUSD", "M1", np.concatenate([m1[:600], m1[700:]]), "terminal")
    bars, coverage = read_covered(store, "EURUSD", "M5", TUESDAY, TUESDAY + 2 * DAY, None)
    assert coverage.count == len(bars) == 2 * 288 - 20
    assert (coverage.first, coverage.last) == (TUESDAY, TUESDAY + 2 * DAY - 300)
    assert coverage.holes is not None
    assert [(h.from_, h.to, h.bars) for h in coverage.holes] == [(TUESDAY + 600 * 60, TUESDAY + 700 * 60, 20)]


def test_read_over_a_weekend_reports_no_hole(store: BarStore) -> None:
    friday = TUESDAY + 3 * DAY
    store.upsert(
        "EURUSD",
        "M1",
        m1_bars(friday, 4 * 1440, seed=5)[
            (np.arange(4 * 1440) < 22 * 60) | (np.arange(4 * 1440) >= (2 * 1440 + 22 * 60))
        ],
        "terminal",
    )
    _, coverage = read_covered(store, "EURUSD", "H1", friday, friday + 4 * DAY, None)
    assert coverage.holes == []
