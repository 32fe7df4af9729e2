"""TickStore: idempotent ingest, order within a millisecond, partitions, retention, resume points."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine

from services.data.core.tick_store import TickCursor, TickStore, assign_seq
from shared.errors import InvalidInputError
from tests.data.unit.factories import make_ticks

JAN_31_23_59_MS = 1_706_745_540_000  # 2024-01-31 23:59:00 UTC


@pytest.fixture(params=["files", "tables"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> TickStore:
    if request.param == "files":
        tick_store = TickStore.in_directory(tmp_path / "ticks")
    else:
        tick_store = TickStore.in_database(create_engine(f"sqlite:///{tmp_path / 'one.sqlite'}"))
    yield tick_store
    tick_store.close()


def test_assign_seq_several_ticks_in_one_ms_numbered_in_order() -> None:
    seq = assign_seq(np.array([5, 5, 5, 6, 7, 7]))
    assert seq.tolist() == [0, 1, 2, 0, 0, 1]


def test_assign_seq_first_seq_offsets_only_first_millisecond() -> None:
    seq = assign_seq(np.array([5, 5, 6, 6]), first_seq=2)
    assert seq.tolist() == [2, 3, 0, 1]


def test_insert_batch_same_range_twice_inserts_nothing_new(store: TickStore) -> None:
    ticks = make_ticks(2_000)
    assert store.insert_batch("EURUSD", ticks) == 2_000
    assert store.insert_batch("EURUSD", ticks) == 0
    stored = store.read_range("EURUSD", 0, 2**62)
    assert np.array_equal(stored, ticks)


def test_insert_batch_overlapping_refetch_adds_only_new_ticks(store: TickStore) -> None:
    ticks = make_ticks(3_000, max_step_ms=3)  # many shared milliseconds
    first_ms = int(ticks["time_msc"][1_000])
    overlap_start = int(np.searchsorted(ticks["time_msc"], first_ms))  # a refetch starts at a whole ms
    store.insert_batch("EURUSD", ticks[:1_500])
    added = store.insert_batch("EURUSD", ticks[overlap_start:])
    assert added == 1_500
    assert np.array_equal(store.read_range("EURUSD", 0, 2**62), ticks)


def test_insert_batch_continuation_mid_millisecond_keeps_every_tick(store: TickStore) -> None:
    ticks = make_ticks(10)
    ticks["time_msc"] = [100, 100, 100, 100, 101, 101, 102, 102, 102, 103]
    store.insert_batch("EURUSD", ticks[:2])
    store.insert_batch("EURUSD", ticks[2:], first_seq=2)
    stored = store.read_range("EURUSD", 0, 200)
    assert np.array_equal(stored["bid"], ticks["bid"])
    assert store.last_cursor("EURUSD") == TickCursor(103, 0)


def test_insert_batch_unsorted_ticks_rejected(store: TickStore) -> None:
    ticks = make_ticks(5)[::-1]
    with pytest.raises(InvalidInputError):
        store.insert_batch("EURUSD", ticks)
    assert store.last_tick("EURUSD") is None


def test_read_range_across_month_boundary_is_transparent(store: TickStore) -> None:
    ticks = make_ticks(5_000, start_ms=JAN_31_23_59_MS, max_step_ms=100)
    store.insert_batch("EURUSD", ticks)
    assert len(store._layout.keys("EURUSD")) == 2
    mid = JAN_31_23_59_MS + 60_000 - 5_000
    end = JAN_31_23_59_MS + 60_000 + 5_000
    expected = ticks[(ticks["time_msc"] >= mid) & (ticks["time_msc"] < end)]
    assert np.array_equal(store.read_range("EURUSD", mid, end), expected)
    assert np.array_equal(store.read_range("EURUSD", mid, end, limit=7), expected[:7])


def test_read_after_cursor_returns_strictly_later_ticks(store: TickStore) -> None:
    ticks = make_ticks(500, max_step_ms=2)
    store.insert_batch("EURUSD", ticks)
    cursor = TickCursor(int(ticks["time_msc"][100]), 0)
    later = store.read_after("EURUSD", cursor)
    first_of_ms = int(np.searchsorted(ticks["time_msc"], cursor.time_msc))
    assert np.array_equal(later, ticks[first_of_ms + 1 :])


def test_iter_after_chunks_cover_all_ticks_once(store: TickStore) -> None:
    ticks = make_ticks(1_000, max_step_ms=2)
    store.insert_batch("EURUSD", ticks)
    chunks = [chunk for chunk, _ in store.iter_after("EURUSD", None, chunk_size=97)]
    assert np.array_equal(np.concatenate(chunks), ticks)


def test_drop_before_removes_whole_old_partitions_only(store: TickStore) -> None:
    ticks = make_ticks(5_000, start_ms=JAN_31_23_59_MS, max_step_ms=100)
    store.insert_batch("EURUSD", ticks)
    feb_1_ms = JAN_31_23_59_MS + 60_000
    assert store.drop_before("EURUSD", feb_1_ms + 3_600_000) == ["2024-01"]
    assert np.array_equal(store.read_range("EURUSD", 0, 2**62), ticks[ticks["time_msc"] >= feb_1_ms])


def test_symbols_with_odd_characters_round_trip(store: TickStore) -> None:
    store.insert_batch("EURUSD.m#", make_ticks(3))
    store.insert_batch("EURUSD", make_ticks(4))
    assert store.symbols() == ["EURUSD", "EURUSD.m#"]
    assert len(store.read_range("EURUSD.m#", 0, 2**62)) == 3


def test_day_partitioning_splits_files_per_day(tmp_path: Path) -> None:
    store = TickStore.in_directory(tmp_path, "day")
    store.insert_batch("EURUSD", make_ticks(5_000, start_ms=JAN_31_23_59_MS, max_step_ms=100))
    assert [p.key for p in store.partition_stats("EURUSD")] == ["2024-01-31", "2024-02-01"]
    store.close()
