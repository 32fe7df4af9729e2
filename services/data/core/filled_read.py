"""Bars as the service answers them: each timeframe's own rows, built from lower stored timeframes wherever
its own rows are missing, and the holes that remain against the trading calendar.

Gap fill and import write M1 (and H1), while collection writes every timeframe from today's ticks; so
"M5 is stored" says nothing about the days gap-filled. A read therefore never trusts a timeframe as a
whole: the calendar's expected opens in the window without an own row are built from the largest stored
timeframe dividing it, whose own missing opens are built the same way, down to the lowest stored one.
Own rows win where both exist. A fully stored window costs one vectorised check and no extra query.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.data.core.aggregation import best_source, ceil_open, divides
from services.data.core.bar_store import BarStore
from services.data.core.completeness import missing_runs
from shared.errors import InvalidInputError
from shared.market.bars import aggregate_bars
from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.coverage import Coverage, Hole
from shared.market.records import RATES_DTYPE
from shared.market.timeframes import Timeframe, get_timeframe

# Missing opens closer than this many bars are read in one query (the own rows between are dropped), so
# scattered single holes cost a few queries, not one each.
_JOIN_GAP_BARS = 64
_MONTH_S = 31 * 86_400


def read_covered(
    store: BarStore,
    symbol: str,
    timeframe: str,
    from_s: int | None,
    to_s: int | None,
    count: int | None,
    calendar: WeeklyCalendar = FX_CALENDAR,
) -> tuple[np.ndarray, Coverage]:
    """Bars opening in [from_s, to_s) (oldest first; with `count`, the newest `count`), and their coverage:
    holes are counted in [from_s (or the first bar), to_s (or the last bar's close))."""
    tf = get_timeframe(timeframe)
    if from_s is not None and to_s is not None and from_s > to_s:
        raise InvalidInputError("from is after to", details={"from": from_s, "to": to_s})
    if tf.name not in store.stored_timeframes and best_source(tf, store.stored_timeframes) is None:
        raise InvalidInputError(
            f"timeframe {tf.name} is not stored and cannot be built from {', '.join(store.stored_timeframes)}",
            code="unknown_timeframe",
            details={"timeframe": tf.name},
        )
    reader = _FilledReader(store, symbol, calendar)
    if count is None:
        hi = to_s if to_s is not None else reader.newest_end(tf)
        lo = from_s if from_s is not None else reader.oldest(tf)
        bars = reader.window(tf, lo, hi) if lo is not None and hi is not None else np.empty(0, RATES_DTYPE)
    else:
        bars = reader.newest(tf, from_s, to_s, count)
    truncated = count is not None and len(bars) == count
    window_from = int(bars["time"][0]) if (from_s is None or truncated) and len(bars) else from_s
    window_to = to_s if to_s is not None else (tf.next_open(int(bars["time"][-1])) if len(bars) else None)
    holes: list[Hole] = []
    if window_from is not None and window_to is not None:
        holes = reader.holes(tf, bars["time"], window_from, window_to)
    times = bars["time"]
    coverage = Coverage(
        count=len(bars),
        first=int(times[0]) if len(bars) else None,
        last=int(times[-1]) if len(bars) else None,
        from_=window_from,
        to=window_to,
        holes=holes,
    )
    return bars, coverage


class _FilledReader:
    """One read's walk down the stored timeframes of one symbol."""

    def __init__(self, store: BarStore, symbol: str, calendar: WeeklyCalendar) -> None:
        self._store = store
        self._symbol = symbol
        self._calendar = calendar
        self._stored = store.stored_timeframes

    def _chain(self, tf: Timeframe) -> list[str]:
        """`tf` itself (when stored) and every stored timeframe it can be built from."""
        return [name for name in self._stored if name == tf.name or divides(get_timeframe(name), tf)]

    def newest_end(self, tf: Timeframe) -> int | None:
        """Just past the newest open of any timeframe `tf` is read from, or None when none holds a bar."""
        newest = [self._store.edge_time(self._symbol, name, newest=True) for name in self._chain(tf)]
        known = [t for t in newest if t is not None]
        return max(known) + 1 if known else None

    def oldest(self, tf: Timeframe) -> int | None:
        """The oldest open of any timeframe `tf` is read from, floored to `tf`."""
        oldest = [self._store.edge_time(self._symbol, name, newest=False) for name in self._chain(tf)]
        known = [t for t in oldest if t is not None]
        return tf.floor(min(known)) if known else None

    def _own(self, tf: Timeframe, lo: int | None, hi: int | None, count: int | None) -> np.ndarray:
        if tf.name not in self._stored:
            return np.empty(0, RATES_DTYPE)
        return self._store.select_stored(self._symbol, tf.name, lo, hi, count)

    def window(self, tf: Timeframe, lo: int, hi: int) -> np.ndarray:
        """Every bar of `tf` opening in [lo, hi)."""
        return self._fill(tf, self._own(tf, lo, hi, None), lo, hi)

    def newest(self, tf: Timeframe, lo: int | None, hi: int | None, count: int) -> np.ndarray:
        """The newest `count` bars of `tf` opening in [lo, hi)."""
        own = self._own(tf, lo, hi, count)
        if best_source(tf, self._stored) is None:  # the lowest stored timeframe: nothing to build from
            return own
        end = hi if hi is not None else self.newest_end(tf)
        if end is None:
            return own
        if len(own) == count:  # the union of own and built bars from the oldest own row holds enough
            return self._fill(tf, own, int(own["time"][0]), end)[-count:]
        # Own rows ran out: widen a window back from `end` until it holds `count` bars or history ends.
        bound = lo if lo is not None else self.oldest(tf)
        if bound is None:
            return own
        span = count * (tf.seconds or _MONTH_S)
        while True:
            start = max(bound, tf.floor(end - span))
            bars = self._fill(tf, own[np.searchsorted(own["time"], start) :], start, end)
            if len(bars) >= count or start <= bound:
                return bars[-count:]
            span *= 4

    def _fill(self, tf: Timeframe, own: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """`own` (rows of `tf` in [lo, hi)) with the missing bars built from the next stored timeframe down."""
        source = best_source(tf, self._stored)
        if source is None or hi <= lo:
            return own
        if tf.name in self._stored:
            expected = self._calendar.expected_bar_opens(tf, lo, hi)
            spans = _spans(tf, expected[~_present(expected, own["time"])])
        else:  # nothing of its own: build the whole window (outside trading hours too, as stored)
            spans = [(ceil_open(tf, lo), ceil_open(tf, hi))]
        if not spans:
            return own
        built = [aggregate_bars(self.window(source, a, b), tf) for a, b in spans]
        extra = np.concatenate(built) if built else np.empty(0, RATES_DTYPE)
        extra = extra[~_present(extra["time"], own["time"])]
        if not len(extra):
            return own
        merged = np.concatenate([own, extra])
        return merged[np.argsort(merged["time"], kind="stable")]

    def holes(self, tf: Timeframe, times: np.ndarray, lo: int, hi: int) -> list[Hole]:
        """Runs of expected opens in [lo, hi) without a bar, each marked when the terminal had no data."""
        expected = self._calendar.expected_bar_opens(tf, lo, hi)
        present = _present(expected, times)
        if present.all():
            return []
        marks = self._store.unfillable(self._symbol, tf.name, lo, hi) if tf.name in self._stored else []
        return [
            Hole(from_=r.from_s, to=r.to_s, bars=r.bars, unfillable=r.unfillable)
            for r in missing_runs(tf, expected, present, marks)
        ]


def _present(times: np.ndarray, sorted_times: np.ndarray) -> np.ndarray:
    """Mask of `times` found in the sorted array `sorted_times` (a binary search each; no sort of either)."""
    if not len(sorted_times):
        return np.zeros(len(times), dtype=bool)
    index = np.minimum(np.searchsorted(sorted_times, times), len(sorted_times) - 1)
    return sorted_times[index] == times


def _spans(tf: Timeframe, missing: np.ndarray) -> Sequence[tuple[int, int]]:
    """[from, to) ranges covering the missing opens, runs closer than `_JOIN_GAP_BARS` bars joined."""
    if not len(missing):
        return []
    gap = _JOIN_GAP_BARS * (tf.seconds or _MONTH_S)
    breaks = np.flatnonzero(np.diff(missing) > gap)
    starts = np.r_[0, breaks + 1]
    ends = np.r_[breaks, len(missing) - 1]
    return [(int(missing[a]), tf.next_open(int(missing[b]))) for a, b in zip(starts, ends, strict=True)]
