"""IncrementalBarBuilder: any split of a tick stream gives ticks_to_bars of the whole; restart resumes."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.data.core.bar_store import BarStore
from services.data.core.incremental import IncrementalBarBuilder, resume_builder
from services.data.core.tick_store import TickStore
from shared.market.bars import ticks_to_bars
from shared.market.records import RATES_DTYPE
from shared.market.timeframes import TIMEFRAMES
from tests.data.unit.factories import POINT, make_ticks

TIMEFRAME_NAMES = ["M1", "M5", "M15", "H1", "H4", "D1", "W1", "MN1"]


def _feed_all(builder: IncrementalBarBuilder, batches: list[np.ndarray]) -> dict[str, list[np.ndarray]]:
    closed: dict[str, list[np.ndarray]] = {name: [] for name in TIMEFRAME_NAMES}
    for batch in batches:
        for name, bars in builder.feed(batch)[0].items():
            closed[name].append(bars)
    return closed


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 2_000),
    seed=st.integers(0, 2**16),
    step=st.sampled_from([3, 2_000, 900_000]),
    cuts=st.lists(st.integers(0, 2_000), max_size=12),
)
def test_feed_any_split_equals_ticks_to_bars(n: int, seed: int, step: int, cuts: list[int]) -> None:
    ticks = make_ticks(n, seed=seed, max_step_ms=step)
    bounds = sorted({0, n, *(c % (n + 1) for c in cuts)})
    batches = [ticks[a:b] for a, b in itertools.pairwise(bounds)]
    builder = IncrementalBarBuilder(TIMEFRAME_NAMES, POINT)
    closed = _feed_all(builder, batches)
    partial = builder.partial
    for name in TIMEFRAME_NAMES:
        got = np.concatenate([*closed[name], np.array([partial[name]], dtype=RATES_DTYPE)])
        assert np.array_equal(got, ticks_to_bars(ticks, TIMEFRAMES[name], POINT)), name


def test_feed_older_tick_than_last_fed_rejected() -> None:
    ticks = make_ticks(10)
    builder = IncrementalBarBuilder(["M1"], POINT)
    builder.feed(ticks[5:])
    with pytest.raises(ValueError):
        builder.feed(ticks[:5])


def test_close_due_closes_bars_whose_period_ended() -> None:
    ticks = make_ticks(100, max_step_ms=100)  # ten seconds within the first minute
    builder = IncrementalBarBuilder(["M1", "H1"], POINT)
    builder.feed(ticks)
    minute_end = int(ticks["time"][0]) // 60 * 60 + 60
    assert builder.close_due(minute_end - 1) == {}
    closed = builder.close_due(minute_end)
    assert list(closed) == ["M1"]
    assert closed["M1"][0] == ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT)[0]
    assert list(builder.partial) == ["H1"]


def test_resume_builder_after_restart_matches_uninterrupted_run(tmp_path: Path) -> None:
    ticks = make_ticks(6_000, max_step_ms=2_000)
    tick_store, bar_store = TickStore.in_directory(tmp_path / "ticks"), BarStore.in_directory(tmp_path)
    builder = IncrementalBarBuilder(TIMEFRAME_NAMES, POINT)
    # Before the "crash": ticks up to 4,000 stored, bars (with their cursor) saved only up to tick 2,500.
    tick_store.insert_batch("EURUSD", ticks[:4_000])
    saved_cursor = next(tick_store.iter_after("EURUSD", None, chunk_size=2_500))[1]
    closed, partial = builder.feed(ticks[:2_500])
    to_save = {name: np.r_[closed[name], np.array([partial[name]], RATES_DTYPE)] for name in TIMEFRAME_NAMES}
    bar_store.save("EURUSD", to_save, "ticks", saved_cursor)
    # After the restart: seed from the stored open bars and replay what the bars have not seen.
    stored_partial = {name: bar_store.read("EURUSD", name, count=1)[0] for name in TIMEFRAME_NAMES}
    fresh = IncrementalBarBuilder(TIMEFRAME_NAMES, POINT)
    replay_closed, cursor = resume_builder(
        fresh, "EURUSD", bar_store.cursor("EURUSD"), stored_partial, tick_store
    )
    assert cursor == tick_store.last_cursor("EURUSD")
    after_closed, after_partial = fresh.feed(ticks[4_000:])
    for name in TIMEFRAME_NAMES:
        got = np.concatenate(
            [
                closed[name],
                replay_closed[name],
                after_closed[name],
                np.array([after_partial[name]], RATES_DTYPE),
            ]
        )
        assert np.array_equal(got, ticks_to_bars(ticks, TIMEFRAMES[name], POINT)), name
    tick_store.close()
