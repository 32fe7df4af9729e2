"""BarStore: upserts, range and count reads, timeframes built on read, cursor, gap marks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.data.core.bar_store import BarStore
from services.data.core.gap_plan import plan_bar_fetches
from services.data.core.schema import SCHEMA_VERSION, migrate
from services.data.core.tick_store import TickCursor
from shared.errors import InvalidInputError
from shared.market.bars import ticks_to_bars
from shared.market.calendar import FX_CALENDAR
from shared.market.timeframes import TIMEFRAMES
from tests.data.unit.factories import POINT, make_ticks


@pytest.fixture
def store(tmp_path: Path) -> BarStore:
    bar_store = BarStore.in_directory(tmp_path, ["M1", "M5", "H1"])
    yield bar_store
    bar_store.engine.dispose()


@pytest.fixture
def ticks() -> np.ndarray:
    return make_ticks(40_000, max_step_ms=1_000)  # about 5.5 hours


def test_upsert_same_bars_twice_keeps_one_row_each(store: BarStore, ticks: np.ndarray) -> None:
    m1 = ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT)
    store.upsert("EURUSD", "M1", m1, "ticks")
    store.upsert("EURUSD", "M1", m1, "ticks")
    assert np.array_equal(store.read("EURUSD", "M1"), m1)
    assert store.statistics()[0].rows == len(m1)


def test_upsert_changed_bar_replaces_it(store: BarStore, ticks: np.ndarray) -> None:
    m1 = ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT)
    store.upsert("EURUSD", "M1", m1[:10], "ticks")
    changed = m1[9:10].copy()
    changed["close"] += 0.001
    changed["high"] += 0.001
    store.upsert("EURUSD", "M1", changed, "terminal")
    assert store.read("EURUSD", "M1")[-1] == changed[0]


def test_read_range_is_half_open_and_count_takes_newest(store: BarStore, ticks: np.ndarray) -> None:
    m1 = ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT)
    store.upsert("EURUSD", "M1", m1, "ticks")
    a, b = int(m1["time"][10]), int(m1["time"][20])
    assert np.array_equal(store.read("EURUSD", "M1", a, b), m1[10:20])
    assert np.array_equal(store.read("EURUSD", "M1", a, b, count=3), m1[17:20])
    assert np.array_equal(store.read("EURUSD", "M1", count=5), m1[-5:])


def test_read_unstored_timeframe_aggregates_from_stored(store: BarStore, ticks: np.ndarray) -> None:
    store.upsert("EURUSD", "M5", ticks_to_bars(ticks, TIMEFRAMES["M5"], POINT), "ticks")
    m15 = ticks_to_bars(ticks, TIMEFRAMES["M15"], POINT)
    assert np.array_equal(store.read("EURUSD", "M15"), m15)
    a, b = int(m15["time"][3]), int(m15["time"][9]) - 1
    assert np.array_equal(store.read("EURUSD", "M15", a, b), m15[3:9])
    assert np.array_equal(store.read("EURUSD", "M15", count=4), m15[-4:])
    assert np.array_equal(store.read("EURUSD", "M15", to_s=b, count=2), m15[7:9])


def test_read_timeframe_lower_than_any_stored_is_invalid(store: BarStore) -> None:
    with pytest.raises(InvalidInputError) as raised:
        BarStore(store.engine, ["H1"]).read("EURUSD", "M30")
    assert raised.value.code == "unknown_timeframe"


def test_save_writes_bars_and_cursor_together(store: BarStore, ticks: np.ndarray) -> None:
    cursor = TickCursor(int(ticks["time_msc"][-1]), 0)
    store.save(
        "EURUSD",
        {tf: ticks_to_bars(ticks, TIMEFRAMES[tf], POINT) for tf in ("M1", "H1")},
        "ticks",
        cursor,
    )
    assert store.cursor("EURUSD") == cursor
    assert store.cursor("GBPUSD") is None
    assert {(s.timeframe, s.rows > 0) for s in store.statistics()} == {("M1", True), ("H1", True)}


def test_from_after_to_is_invalid(store: BarStore) -> None:
    with pytest.raises(InvalidInputError):
        store.read("EURUSD", "M1", 100, 50)


def test_unfillable_marks_overlap_query(store: BarStore) -> None:
    store.mark_unfillable("EURUSD", "M1", [(0, 60), (600, 900)])
    store.mark_unfillable("EURUSD", "M1", [(600, 900)])
    assert store.unfillable("EURUSD", "M1", 700, 800) == [(600, 900)]
    assert store.unfillable("EURUSD", "M1", 0, 10_000) == [(0, 60), (600, 900)]
    store.clear_unfillable("EURUSD", "M1")
    assert store.unfillable("EURUSD", "M1", 0, 10_000) == []


def test_migrate_again_keeps_version(store: BarStore) -> None:
    assert migrate(store.engine) == SCHEMA_VERSION


def test_completeness_of_store_finds_punched_holes_then_nothing_after_fill(store: BarStore) -> None:
    friday_20_00, monday_02_00 = 1_704_484_800, 1_704_679_200
    sunday_22_00 = monday_02_00 - 4 * 3600
    ticks = np.concatenate(
        [
            make_ticks(15_000, friday_20_00 * 1000, max_step_ms=1_000),
            make_ticks(30_000, sunday_22_00 * 1000, max_step_ms=1_000),
        ]
    )
    ticks = ticks[FX_CALENDAR.is_open_array(ticks["time"]) & (ticks["time"] < monday_02_00)]
    m1 = ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT)
    holes = np.zeros(len(m1), dtype=bool)
    holes[[3, 4, 5, 150]] = True
    store.upsert("EURUSD", "M1", m1[~holes], "ticks")
    report = store.completeness("EURUSD", "M1", friday_20_00, monday_02_00)
    assert [(r.from_s, r.to_s) for r in report.missing] == [
        (int(m1["time"][3]), int(m1["time"][5]) + 60),
        (int(m1["time"][150]), int(m1["time"][150]) + 60),
    ]
    chunks = plan_bar_fetches(report.fillable, TIMEFRAMES["M1"], max_bars=2)
    fetched = [m1[(m1["time"] >= c.from_s) & (m1["time"] < c.to_s)] for c in chunks]
    store.upsert("EURUSD", "M1", np.concatenate(fetched), "terminal")
    again = store.completeness("EURUSD", "M1", friday_20_00, monday_02_00)
    assert again.missing == [] and plan_bar_fetches(again.fillable, TIMEFRAMES["M1"], max_bars=2) == []
    assert np.array_equal(store.read("EURUSD", "M1", friday_20_00, monday_02_00), m1)
