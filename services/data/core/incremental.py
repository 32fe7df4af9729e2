"""Incremental tick → bar building for one symbol: the open bar of every timeframe, updated per batch.

Feeding a tick stream in batches, split anywhere, gives the same bars as `ticks_to_bars` on the whole
stream: each batch is aggregated with that same rule and its first bar merged into the open one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from services.data.core.aggregation import bars_for_timeframes
from services.data.core.tick_store import TickCursor, TickStore
from shared.market.bars import merge_bar
from shared.market.records import RATES_DTYPE
from shared.market.timeframes import Timeframe, get_timeframe

_EMPTY = np.empty(0, dtype=RATES_DTYPE)


class IncrementalBarBuilder:
    """Keeps the open (partial) bar per timeframe; `feed` returns bars closed by the batch."""

    def __init__(self, timeframes: Sequence[str | Timeframe], point: float) -> None:
        self._timeframes = [tf if isinstance(tf, Timeframe) else get_timeframe(tf) for tf in timeframes]
        self._point = point
        self._open: dict[str, np.void] = {}
        self._last_msc: int | None = None

    @property
    def partial(self) -> dict[str, np.void]:
        """The open bar of each timeframe that has seen a tick."""
        return {name: bar.copy() for name, bar in self._open.items()}

    def seed(self, partial: Mapping[str, np.void], last_msc: int) -> None:
        """Restore open bars saved earlier; `last_msc` is the time of the last tick they include."""
        self._open = {get_timeframe(name).name: bar.copy() for name, bar in partial.items()}
        self._last_msc = last_msc

    def feed(self, ticks: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.void]]:
        """Add time-sorted ticks; returns (bars closed by them, open bars after them) per timeframe."""
        if len(ticks) == 0:
            return {tf.name: _EMPTY for tf in self._timeframes}, self.partial
        first = int(ticks["time_msc"][0])
        if self._last_msc is not None and first < self._last_msc:
            raise ValueError(f"tick at {first} ms is older than the last one fed ({self._last_msc} ms)")
        self._last_msc = int(ticks["time_msc"][-1])
        closed: dict[str, np.ndarray] = {}
        built_by_timeframe = bars_for_timeframes(ticks, self._timeframes, self._point)
        for tf in self._timeframes:
            built = built_by_timeframe[tf.name]
            current = self._open.get(tf.name)
            if current is not None and current["time"] == built[0]["time"]:
                built[0] = merge_bar(current, built[0])
            elif current is not None:
                built = np.concatenate([np.array([current], dtype=RATES_DTYPE), built])
            closed[tf.name] = built[:-1]
            self._open[tf.name] = built[-1].copy()
        return closed, self.partial

    def close_due(self, now_s: int) -> dict[str, np.ndarray]:
        """Close open bars whose period ended at or before `now_s` (no later tick will belong to them).

        The caller passes a time up to which the terminal's ticks are known complete, so a bar is not
        closed early by a late-arriving tick of its own period.
        """
        closed: dict[str, np.ndarray] = {}
        for tf in self._timeframes:
            current = self._open.get(tf.name)
            if current is not None and tf.next_open(int(current["time"])) <= now_s:
                closed[tf.name] = np.array([current], dtype=RATES_DTYPE)
                del self._open[tf.name]
        if closed and self._last_msc is not None:
            self._last_msc = max(self._last_msc, now_s * 1000)
        return closed


def resume_builder(
    builder: IncrementalBarBuilder,
    symbol: str,
    cursor: TickCursor | None,
    stored_partial: Mapping[str, np.void],
    ticks: TickStore,
    chunk_size: int = 500_000,
) -> tuple[dict[str, np.ndarray], TickCursor | None]:
    """Seed a builder after a restart from its saved open bars, then replay the ticks stored after `cursor`.

    `cursor` and `stored_partial` are what was saved together (BarStore.cursor and the newest bar of each
    timeframe); with no cursor every stored tick is replayed. Returns the bars the replay closed and the
    cursor of the last replayed tick; the builder holds the open bars.
    """
    if cursor is not None:
        builder.seed(stored_partial, cursor.time_msc)
    closed: dict[str, list[np.ndarray]] = {}
    position = cursor
    for chunk, position in ticks.iter_after(symbol, cursor, chunk_size):  # noqa: B007 - the last is returned
        for name, bars in builder.feed(chunk)[0].items():
            closed.setdefault(name, []).append(bars)
    return {name: np.concatenate(parts) for name, parts in closed.items()}, position
