"""The in-process event bus: publish never blocks; every subscriber has a bounded queue.

A slow subscriber loses its oldest events and is told how many (the stream sends a `*.lagged`
notice); it never slows the publisher or other subscribers.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from shared.event_payloads import EventEnvelope, Payload
from shared.utils import get_timestamp_ms


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events a subscriber wants: type patterns (`order.*`, `tick`) and symbols; empty = all."""

    types: frozenset[str] = frozenset()
    symbols: frozenset[str] = frozenset()

    @classmethod
    def parse(
        cls, types: str | Iterable[str] | None = None, symbols: str | Iterable[str] | None = None
    ) -> EventFilter:
        return cls(frozenset(_split(types)), frozenset(s.upper() for s in _split(symbols)))

    def matches(self, event_type: str, symbol: str | None) -> bool:
        if self.types and not any(t == event_type or fnmatch.fnmatchcase(event_type, t) for t in self.types):
            return False
        # Events without a symbol (status, progress) pass a symbol filter: they concern everyone.
        return not self.symbols or symbol is None or symbol.upper() in self.symbols


def _split(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


# Ticks are samples of a price: a client that has not yet been sent one for a symbol only needs the latest.
COALESCED_TYPE = "tick"


@dataclass(slots=True)
class _Entry:
    raw: str
    tick_key: tuple[str, str] | None


@dataclass(eq=False)
class Subscription:
    """One subscriber's bounded queue of serialised events.

    A queued tick is overwritten in place by a newer tick of the same source and symbol: a lagging client
    gets the latest price at the older one's place in the stream, and a tick flood cannot push its other
    events out of the queue.
    """

    filter: EventFilter
    maxsize: int
    queue: deque[_Entry] = field(init=False)
    dropped: int = 0
    _pending_ticks: dict[tuple[str, str], _Entry] = field(default_factory=dict)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.queue = deque()

    def offer(self, event_type: str, symbol: str | None, raw: str, source: str = "") -> None:
        if not self.filter.matches(event_type, symbol):
            return
        key = (source, symbol) if event_type == COALESCED_TYPE and symbol is not None else None
        if key is not None and (queued := self._pending_ticks.get(key)) is not None:
            queued.raw = raw
            return
        if len(self.queue) >= self.maxsize:
            self._forget(self.queue.popleft())
            self.dropped += 1
        entry = _Entry(raw, key)
        self.queue.append(entry)
        if key is not None:
            self._pending_ticks[key] = entry
        self._ready.set()

    def _forget(self, entry: _Entry) -> None:
        """Stop coalescing into an entry that has left the queue."""
        if entry.tick_key is not None and self._pending_ticks.get(entry.tick_key) is entry:
            del self._pending_ticks[entry.tick_key]

    async def wait(self, timeout: float | None = None) -> bool:
        """Wait until something is queued; False on timeout."""
        if self.queue:
            return True
        self._ready.clear()
        try:
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        except TimeoutError:
            return False
        return True

    def drain(self, limit: int | None = None) -> tuple[list[str], int]:
        """Up to `limit` of the oldest queued events (all by default), and how many were dropped since
        the last drain."""
        count = len(self.queue) if limit is None else min(limit, len(self.queue))
        taken = [self.queue.popleft() for _ in range(count)]
        for entry in taken:
            self._forget(entry)
        dropped, self.dropped = self.dropped, 0
        return [entry.raw for entry in taken], dropped


def envelope(
    source: str, event_type: str, data: Payload | dict[str, Any] | None, *, seq: int, ts: int
) -> EventEnvelope:
    """The envelope of one event (`seq` 0 for a stream's own notices, which are outside the source's order)."""
    body = data.wire() if isinstance(data, Payload) else (data or {})
    return {"seq": seq, "ts": ts, "source": source, "type": event_type, "data": body}


class EventBus:
    """Per-service bus. `publish` stamps an envelope; `dispatch` fans out an envelope made elsewhere."""

    def __init__(self, source: str, *, clock_ms: Callable[[], int] = get_timestamp_ms) -> None:
        self.source = source
        self._clock_ms = clock_ms
        self._seq = 0
        self._subscriptions: set[Subscription] = set()
        self._listeners: list[Callable[[Mapping[str, Any]], None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.published = 0

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Remember the event loop so worker threads can publish through `publish_threadsafe`."""
        self._loop = loop

    def publish(self, event_type: str, data: Payload | dict[str, Any] | None = None) -> EventEnvelope:
        """Stamp and deliver one event: services pass a catalog type and its payload (shared/event_catalog.py);
        a plain dict is for relays and tests."""
        self._seq += 1
        event = envelope(self.source, event_type, data, seq=self._seq, ts=self._clock_ms())
        self.dispatch(event)
        return event

    def publish_threadsafe(self, event_type: str, data: Payload | dict[str, Any] | None = None) -> None:
        if self._loop is None:
            raise RuntimeError("EventBus.bind_loop() was not called")
        self._loop.call_soon_threadsafe(self.publish, event_type, data)

    def dispatch(self, event: Mapping[str, Any], raw: str | None = None) -> None:
        """Deliver an envelope to every matching subscriber; serialised once for all of them."""
        self.published += 1
        text = raw if raw is not None else orjson.dumps(event).decode()
        data = event.get("data")
        symbol = data.get("symbol") if isinstance(data, dict) else None
        source = event.get("source", "")
        for sub in self._subscriptions:
            sub.offer(event["type"], symbol, text, source)
        for listener in self._listeners:
            listener(event)

    def subscribe(self, event_filter: EventFilter, maxsize: int = 10_000) -> Subscription:
        sub = Subscription(event_filter, maxsize)
        self._subscriptions.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    def add_listener(self, listener: Callable[[Mapping[str, Any]], None]) -> None:
        """In-process callback for every event (must not block)."""
        self._listeners.append(listener)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
