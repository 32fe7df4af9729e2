"""A memo of indicator series, active only while a parameter search evaluates combinations on one set of bars.

A grid of 50 fast x 20 slow moving averages asks for 2,000 averages but has only 70 distinct ones; over
1,000,000 bars each costs ~2 ms, a fifth of a combination's time. Outside a search (live instances, single
backtests) `cached_indicator` just computes. Entries are keyed by the strategy's own key and the identity of
the input series (kept alive by the entry, so the identity cannot be reused), evicted least recently used
beyond a byte budget, and read-only, so no combination can change another's indicator.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np


class IndicatorCache:
    """Indicator series by (key, input series), least recently used first out beyond `max_bytes`."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.computed = 0  # series computed (cache misses), for tests and benches
        self._entries: OrderedDict[tuple[Hashable, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._bytes = 0

    def get(self, key: Hashable, source: np.ndarray, compute: Callable[[], np.ndarray]) -> np.ndarray:
        full_key = (key, id(source))
        entry = self._entries.get(full_key)
        if entry is not None:
            self._entries.move_to_end(full_key)
            return entry[1]
        value = compute()
        self.computed += 1
        if value.nbytes > self.max_bytes:
            return value
        value.flags.writeable = False
        self._entries[full_key] = (source, value)
        self._bytes += value.nbytes
        while self._bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._bytes -= evicted.nbytes
        return value

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0


_ACTIVE: ContextVar[IndicatorCache | None] = ContextVar("indicator_cache", default=None)


@contextmanager
def indicator_cache(cache: IndicatorCache) -> Iterator[IndicatorCache]:
    """Make `cache` the one `cached_indicator` uses in this context (one search's bars at a time)."""
    token = _ACTIVE.set(cache)
    try:
        yield cache
    finally:
        _ACTIVE.reset(token)


def cached_indicator(key: Hashable, source: np.ndarray, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """`compute()`, memoised by `key` and `source` while a search's cache is active. `key` must name
    everything but `source` that the result depends on (indicator and parameters)."""
    cache = _ACTIVE.get()
    return compute() if cache is None else cache.get(key, source, compute)
