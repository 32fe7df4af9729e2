"""On-the-fly collection: ticks read from the terminal by range from the last stored tick, stored in
batches, turned into bars incrementally, `candle.closed` and throttled `tick` events published.

Zero loss rests on three rules. Every poll starts at the millisecond of the newest tick received, so
ticks sharing it are read again and recognised by their count (the store keys ticks by millisecond and
index within it). Ticks are written before the bars built from them, and bars together with the cursor
of the last tick they include, so after a crash the builder replays exactly the stored ticks it missed
and collection continues from the last stored tick. A graceful stop flushes the batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.exc import SQLAlchemyError

from services.data.core.incremental import IncrementalBarBuilder, resume_builder
from services.data.core.mt5_source import TickSource
from services.data.core.stall import StallChange, StallWatch
from services.data.core.stores import DataStores
from services.data.core.tick_store import TickCursor
from services.data.settings import CollectionSection
from shared.disk_full import DiskFullError, StorageState
from shared.errors import PlatformError
from shared.event_catalog import ALERT, CANDLE_CLOSED, TICK
from shared.event_payloads import CollectionStalled, Publish, TickData
from shared.market.candle_events import candle_closed
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.market.timeframes import get_timeframe
from shared.utils import get_timestamp_ms

log = logging.getLogger(__name__)

_DAY_S = 86_400


@dataclass(slots=True)
class TerminalHorizon:
    """The newest tick time any poll returned: the terminal's clock was at least this when it answered."""

    observed_ms: int = 0

    def observe(self, time_msc: int) -> None:
        self.observed_ms = max(self.observed_ms, time_msc)


@dataclass(slots=True)
class SymbolStatus:
    """What `GET /collection/status` reports for one symbol."""

    symbol: str
    stall: StallWatch
    running: bool = False
    last_tick_msc: int | None = None
    stored_ticks: int = 0
    pending_ticks: int = 0
    ticks_per_s: float = 0.0
    error: str | None = None
    started_ms: int | None = None
    _rate_window: list[float] = field(default_factory=lambda: [0.0, 0.0])  # [window start, ticks in it]

    def count(self, n: int, now: float) -> None:
        start, seen = self._rate_window
        if now - start >= 1.0:
            self.ticks_per_s = round(seen / (now - start), 1) if start else 0.0
            self._rate_window[:] = [now, float(n)]
        else:
            self._rate_window[1] = seen + n

    def as_dict(self, market_ms: int) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "running": self.running,
            "last_tick_msc": self.last_tick_msc,
            "lag_ms": None if self.last_tick_msc is None else max(0, market_ms - self.last_tick_msc),
            "ticks_per_s": self.ticks_per_s,
            "stored_ticks": self.stored_ticks,
            "pending_ticks": self.pending_ticks,
            "error": self.error,
            "started_ms": self.started_ms,
            "stalled": self.stall.stalled,
            "stalled_since_ms": self.stall.since_ms,
            "reason": self.stall.reason,
        }


class SymbolCollector:
    """Collects one symbol until its stop event is set."""

    def __init__(
        self,
        symbol: str,
        stores: DataStores,
        source: TickSource,
        config: CollectionSection,
        publish: Publish,
        horizon: TerminalHorizon,
        storage: StorageState,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ms: Callable[[], int] = get_timestamp_ms,
        market_ms: Callable[[], int] | None = None,
    ) -> None:
        self.symbol = symbol
        self.stall = StallWatch(config.stall_after_s, config.stall_min_wall_s)
        self.status = SymbolStatus(symbol, self.stall)
        self._stores = stores
        self._source = source
        self._config = config
        self._publish = publish
        self._horizon = horizon
        self._storage = storage
        self._writing = f"collection of {symbol}"
        self._monotonic = monotonic
        self._wall_ms = wall_ms
        self._market_ms = market_ms or wall_ms
        self._timeframes = [get_timeframe(tf) for tf in stores.bars.stored_timeframes]
        self._builder: IncrementalBarBuilder | None = None
        self._buffer: list[np.ndarray] = []
        self._buffered = 0
        self._batch_started = 0.0
        self._tail: tuple[int, int] = (0, 0)  # (ms of the newest tick received, ticks received in that ms)
        self._written_tail: tuple[int, int] = (0, 0)  # the same for the newest tick stored
        self._complete_ms = 0  # every tick at or before this time has been received
        self._next_close_s: int | None = None
        self._last_tick_event = float("-inf")
        self._polled = False
        self._catch_up_ms = 0  # the terminal's now when last asked: bars closing by then are a backfill

    # ----- lifecycle --------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Prepare from the store, then poll until `stop`; errors back off and restart from the store."""
        self.status.running, self.status.started_ms = True, self._wall_ms()
        initial = delay = self._config.poll_interval_ms / 1000
        try:
            while not stop.is_set():
                self._polled = False
                try:
                    await self._prepare()
                    await self._collect(stop)
                except DiskFullError as exc:
                    # Reported once by the storage state; polling works while writing does not, so the
                    # backoff grows across attempts and collection resumes with the first write that fits.
                    self.status.error = f"disk_full: {exc.message}"
                    log.debug("collection of %s: disk full; retrying in %.1f s", self.symbol, delay)
                    await _wait(stop, delay)
                    delay = min(delay * 2, self._config.retry_max_s)
                except (PlatformError, OSError, SQLAlchemyError, sqlite3.Error, ValueError) as exc:
                    if self._polled:  # it worked for a while: this is a new outage, back off afresh
                        delay = initial
                    self.status.error = f"{type(exc).__name__}: {exc}"
                    log.warning("collection of %s: %s; retrying in %.1f s", self.symbol, exc, delay)
                    await _wait(stop, delay)
                    delay = min(delay * 2, self._config.retry_max_s)
        finally:
            self.status.running = False
            self._report(self.stall.end(self._market_ms(), "collection stopped"))

    async def _prepare(self) -> None:
        """Rebuild the builder and the read position from what is stored."""
        point = await self._source.symbol_point(self.symbol)
        latest = await self._source.latest_tick_ms(self.symbol)
        # Every bar closing up to the terminal's newest tick is history by the time it is built.
        self._catch_up_ms = latest or 0
        start_ms = self._first_start_ms(latest if latest is not None else self._wall_ms())
        closed = await asyncio.to_thread(self._restore, point, start_ms)
        self._publish_closed(closed, backfill=True)  # rebuilt from stored ticks: the past, whatever its age
        self._buffer, self._buffered = [], 0
        if not self._storage.full:  # a full disk stays the error until the storage state says it is over
            self.status.error = None

    def _first_start_ms(self, latest_ms: int) -> int:
        """The earliest collection reads from: back `backfill_max_s`, at the open of the largest stored
        timeframe up to D1, so the first bar of every timeframe is complete."""
        align = max((tf.seconds for tf in self._timeframes if 0 < tf.seconds <= _DAY_S), default=60)
        start_s = latest_ms // 1000 - self._config.backfill_max_s
        return (start_s - start_s % align) * 1000

    def _restore(self, point: float, start_ms: int) -> dict[str, np.ndarray]:
        """Seed a builder from the saved open bars and replay the stored ticks after the bar cursor; read
        from the last stored tick, or from `start_ms` when that is later."""
        ticks, bars = self._stores.ticks, self._stores.bars
        self._builder = IncrementalBarBuilder(self._timeframes, point)
        last = ticks.last_cursor(self.symbol)
        cursor = bars.cursor(self.symbol)
        if last is None:
            self._tail = self._written_tail = (start_ms, 0)
            self._complete_ms = start_ms - 1
            return {}
        if cursor is None:
            # Ticks without bars (imported, or filled): rebuild from the start of the last stored day.
            day_ms = (last.time_msc // 1000 // _DAY_S) * _DAY_S * 1000
            cursor, partial = TickCursor(day_ms, -1), {}
        else:
            partial = self._stored_partial(cursor)
        closed, position = resume_builder(self._builder, self.symbol, cursor, partial, ticks)
        if position is not None and position != cursor:
            with self._storage.writing(self._writing):
                bars.save(self.symbol, self._bars_to_save(closed, self._builder.partial), "ticks", position)
        self._tail = self._written_tail = (last.time_msc, last.seq + 1)
        self._complete_ms = last.time_msc - 1
        if last.time_msc < start_ms:
            # The newest stored tick is older than backfill_max_s (an imported one, a long stop): reading
            # from it could fetch years of ticks; the span before start_ms stays a gap for gap fill.
            log.info(
                "collection of %s starts at %d ms, after a gap from %d ms",
                self.symbol,
                start_ms,
                last.time_msc,
            )
            self._tail = self._written_tail = (start_ms, 0)
            self._complete_ms = start_ms - 1
        self._next_close_s = self._earliest_close(self._builder.partial)
        return closed

    def _stored_partial(self, cursor: TickCursor) -> dict[str, np.void]:
        """The stored bar of each timeframe that contains the cursor's tick (the builder's open bars)."""
        cursor_s = cursor.time_msc // 1000
        partial = {}
        for tf in self._timeframes:
            opened = tf.floor(cursor_s)
            found = self._stores.bars.read(self.symbol, tf.name, opened, opened + 1)
            if len(found):
                partial[tf.name] = found[0]
        return partial

    # ----- polling ----------------------------------------------------------------------------------

    async def _collect(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                full = await self._poll()
                if self._flush_due():
                    await self._flush()
                if not full:
                    await _wait(stop, self._config.poll_interval_ms / 1000)
        finally:
            if self._buffered:
                await asyncio.shield(self._flush())

    async def _poll(self) -> bool:
        """One read from the last received tick; returns True when the terminal had more to give."""
        horizon = self._horizon.observed_ms
        tail_ms, tail_count = self._tail
        got = await self._source.ticks_from(self.symbol, tail_ms, self._config.poll_max_ticks)
        self._polled = True
        full = len(got) >= self._config.poll_max_ticks
        if full:  # behind the market: the bars this catch-up closes are history, up to the terminal's now
            self._catch_up_ms = max(self._catch_up_ms, await self._source.latest_tick_ms(self.symbol) or 0)
        times = got["time_msc"]
        # The answer starts at the beginning of tail_ms: skip the ticks of that ms already received.
        lo, hi = np.searchsorted(times, [tail_ms, tail_ms + 1])
        new = got[lo + min(tail_count, hi - lo) :]
        if len(new):
            last_ms = int(times[-1])
            at_last = len(times) - int(np.searchsorted(times, last_ms))
            self._tail = (last_ms, max(at_last, tail_count) if last_ms == tail_ms else at_last)
            if not self._buffered:
                self._batch_started = self._monotonic()
            self._buffer.append(new)
            self._buffered += len(new)
            self._horizon.observe(last_ms)
            self.status.last_tick_msc = last_ms
            self.status.pending_ticks = self._buffered
            self.status.count(len(new), self._monotonic())
            self._maybe_publish_tick(new[-1])
        received_ms = self._tail[0] - 1 if full else max(horizon, self._tail[0] - 1)
        self._complete_ms = max(self._complete_ms, received_ms)
        if not full and not len(new):
            self.status.count(0, self._monotonic())
        self._watch_progress(len(new) > 0)
        return full

    def _watch_progress(self, progressed: bool) -> None:
        market_ms, wall_ms = self._market_ms(), self._wall_ms()
        if progressed:
            # The terminal's clock was at least at the newest tick it returned, whatever our reading says.
            self._report(self.stall.progress(max(market_ms, self._tail[0]), wall_ms))
        else:
            self._report(self.stall.idle(self._tail[0], market_ms, wall_ms))

    def _report(self, change: StallChange | None) -> None:
        """One log line and one `alert` per change of the stalled state, however many polls see it."""
        if change is None:
            return
        if change.active:
            log.warning("collection of %s stalled: %s", self.symbol, change.reason)
        else:
            log.info("collection of %s no longer stalled: %s", self.symbol, change.reason)
        self._publish(
            ALERT,
            CollectionStalled(
                code="collection_stalled",
                symbol=self.symbol,
                active=change.active,
                since_ms=change.since_ms,
                market_ms=change.market_ms,
                reason=change.reason,
            ),
        )

    def _maybe_publish_tick(self, tick: np.void) -> None:
        now = self._monotonic()
        if (now - self._last_tick_event) * 1000 < self._config.tick_event_interval_ms:
            return
        self._last_tick_event = now
        # The whole tick, as the mt5 service publishes it (this event once carried only time_msc, bid, ask).
        self._publish(
            TICK, TickData(symbol=self.symbol, **dict(zip(TICKS_DTYPE.names or (), tick.item(), strict=True)))
        )

    def _flush_due(self) -> bool:
        """A new bar, a full or old batch, or (nothing buffered) an open bar whose period has ended."""
        if self._buffered:
            # Flushing as soon as a tick opens a new bar publishes `candle.closed` without waiting.
            new_bar = self._next_close_s is not None and self._tail[0] >= self._next_close_s * 1000
            return (
                new_bar
                or self._buffered >= self._config.batch_max_ticks
                or self._monotonic() - self._batch_started >= self._config.batch_max_s
            )
        return self._close_due_s() is not None

    def _close_due_s(self) -> int | None:
        """The time to close bars by, when some open bar's period has ended with no tick after it."""
        now_s = (self._complete_ms + 1) // 1000
        return now_s if self._next_close_s is not None and self._next_close_s <= now_s else None

    # ----- writing ----------------------------------------------------------------------------------

    async def _flush(self) -> None:
        batch = np.concatenate(self._buffer) if self._buffer else np.empty(0, dtype=TICKS_DTYPE)
        close_s = (self._complete_ms + 1) // 1000
        closed = await asyncio.to_thread(self._write, batch, close_s)
        self._buffer, self._buffered = [], 0
        self.status.stored_ticks += len(batch)
        self.status.pending_ticks = 0
        if not self._storage.full:
            self.status.error = None
        self._publish_closed(closed)

    def _write(self, batch: np.ndarray, close_s: int) -> dict[str, np.ndarray]:
        """Store ticks, then the bars they close or update with the cursor of the last one (a thread)."""
        assert self._builder is not None
        cursor = None
        # On a full disk nothing half-written counts: the retry restarts from what the store holds.
        with self._storage.writing(self._writing):
            if len(batch):
                written_ms, written_count = self._written_tail
                first_ms = int(batch["time_msc"][0])
                first_seq = written_count if first_ms == written_ms else 0
                self._stores.ticks.insert_batch(self.symbol, batch, first_seq)
                last_ms = int(batch["time_msc"][-1])
                at_last = len(batch) - int(np.searchsorted(batch["time_msc"], last_ms))
                total_at_last = at_last + (first_seq if first_ms == last_ms else 0)
                self._written_tail = (last_ms, total_at_last)
                cursor = TickCursor(last_ms, total_at_last - 1)
            closed, _ = self._builder.feed(batch)
            for name, bars in self._builder.close_due(close_s).items():
                closed[name] = np.concatenate([closed.get(name, bars[:0]), bars])
            partial = self._builder.partial
            to_save = self._bars_to_save(closed, partial)
            if any(len(b) for b in to_save.values()) or cursor is not None:
                self._stores.bars.save(self.symbol, to_save, "ticks", cursor)
        self._next_close_s = self._earliest_close(partial)
        return closed

    def _bars_to_save(
        self, closed: dict[str, np.ndarray], partial: dict[str, np.void]
    ) -> dict[str, np.ndarray]:
        out = {}
        for tf in self._timeframes:
            parts = [closed[tf.name]] if tf.name in closed else []
            if tf.name in partial:
                parts.append(np.array([partial[tf.name]], dtype=RATES_DTYPE))
            if parts:
                out[tf.name] = np.concatenate(parts)
        return out

    def _earliest_close(self, partial: dict[str, np.void]) -> int | None:
        ends = [tf.next_open(int(partial[tf.name]["time"])) for tf in self._timeframes if tf.name in partial]
        return min(ends, default=None)

    def _publish_closed(self, closed: dict[str, np.ndarray], *, backfill: bool = False) -> None:
        """`candle.closed` for each bar, flagged as a backfill when it closed before collection caught up
        with the market, and stamped with the market's time as far as the collector knows it."""
        market_ms = max(self._horizon.observed_ms, self._catch_up_ms)
        for tf in self._timeframes:
            for bar in closed.get(tf.name, ()):
                late = backfill or tf.next_open(int(bar["time"])) * 1000 <= self._catch_up_ms
                payload = candle_closed(self.symbol, tf.name, bar, market_ms=market_ms, backfill=late)
                self._publish(CANDLE_CLOSED, payload)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep up to `seconds`, waking early when `stop` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
