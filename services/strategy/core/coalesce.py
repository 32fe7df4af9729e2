"""Sharing one in-flight read among concurrent callers who can all use its answer.

When a candle closes, every instance on that symbol asks the mt5 service for its positions at the same
moment; one request answers them all. A caller joins a request only if it started after the caller's
`fresh_after` (the caller's own last order had completed), so nobody gets a view older than its own
last trade.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class _Flight(Generic[T]):
    started: float
    future: asyncio.Future[T]


class SingleFlight(Generic[T]):
    """At most one read per key in flight for callers it is fresh enough for."""

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._monotonic = monotonic
        self._flights: dict[Hashable, _Flight[T]] = {}

    async def get(self, key: Hashable, fresh_after: float, read: Callable[[], Awaitable[T]]) -> T:
        """The answer of an in-flight read of `key` started at or after `fresh_after`, else of a new one."""
        flight = self._flights.get(key)
        if flight is None or flight.started < fresh_after:
            flight = _Flight(self._monotonic(), asyncio.ensure_future(read()))
            self._flights[key] = flight
            flight.future.add_done_callback(lambda _: self._forget(key, flight))
        return await asyncio.shield(flight.future)

    def _forget(self, key: Hashable, flight: _Flight[T]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
