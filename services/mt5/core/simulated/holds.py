"""Decision holds of the replay clock: like MetaTrader 5's strategy tester, where an expert's reaction takes
no simulated time, the market waits for the strategies.

A holder (the strategy service) registers the (symbol, timeframe) streams its running instances trade. The
clock then stops at the first tick of each new bar of a stream, the tick whose arrival closes the previous
candle, until the holder releases that bar (it has decided and its orders are answered) or
`timeout_s` wall seconds pass. So a market order sent on a closed candle fills at that tick, the same one
the tick-model backtest fills it at. The clock then runs on from the held time: the wall time spent held
is taken out of the market's time, nothing is skipped.

A candle can close before its stream's hold: the data service closes it on the first tick of any collected
symbol past the bar. A holder with orders for it first waits (`wait`) until the clock stands at the hold.
The market time spent held is handed on (`on_held`), so a restarted replay resumes where this clock is.

Times are the raw clock's: the timeout is `timeout_s * speed` market milliseconds past the held tick, the
same moment as `timeout_s` wall seconds, so no polling decides when a hold ends.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from services.mt5.core.simulated.clock import Clock
from services.mt5.core.simulated.market import DeterministicMarket
from shared.errors import InvalidInputError
from shared.market.timeframes import Timeframe

log = logging.getLogger(__name__)

FirstTick = Callable[[str, int, int], int | None]
"""time_msc of a symbol's first tick in [from_ms, until_ms), or None."""

# A weekend (or a holiday next to it) keeps the first tick of a bar days after its boundary.
LOOKAHEAD_MS = 4 * 86_400_000
_LOOKAHEAD_TRIES = 8

StreamKey = tuple[str, str]  # (symbol, timeframe name)

# How often a wait for a hold looks again at most: a release or lease change elsewhere can move the hold.
_WAIT_STEP_S = 0.05
# The time spent held is handed on (to be kept on disk) at most this often: a hold ends at every bar.
_HELD_REPORT_S = 1.0


def first_tick_of(market: DeterministicMarket) -> FirstTick:
    """The FirstTick of a deterministic market."""

    def first(symbol: str, from_ms: int, until_ms: int) -> int | None:
        ticks = market.ticks_forward(symbol, from_ms, 1, until_ms)
        return int(ticks["time_msc"][0]) if len(ticks) else None

    return first


@dataclass(slots=True)
class _Stream:
    """Where one stream holds next: the first tick (`point_ms`) at or after the bar boundary `boundary_s`."""

    symbol: str
    timeframe: Timeframe
    boundary_s: int = 0
    point_ms: int | None = None


@dataclass(slots=True)
class _Holder:
    streams: set[StreamKey] = field(default_factory=set)
    renewed_at: float = 0.0
    warned: bool = False  # a timeout of its holds was logged; again only after one was released in time


class HeldClock:
    """A replay clock that stops at the registered streams' bar boundaries until released (thread-safe)."""

    def __init__(
        self,
        raw: Clock,
        *,
        symbols: Iterable[str],
        speed: float,
        first_tick: FirstTick,
        timeout_s: float,
        lease_s: float,
        monotonic: Callable[[], float] = time.monotonic,
        on_held: Callable[[int], None] | None = None,
        held_before_ms: int = 0,
    ) -> None:
        """`on_held` is told the market ms spent held so far when that grew, at most once a second (and by
        `report_held`), so a restarted replay can resume where this clock is. `held_before_ms`: what the
        replay held before this start in the same platform run (shown in `read`, with this clock's)."""
        self._raw = raw
        self._symbols = sorted(symbols)
        self._first_tick = first_tick
        self.speed = speed
        self.timeout_s = timeout_s
        self._timeout_ms = round(timeout_s * speed * 1000)
        self._lease_s = lease_s
        self._monotonic = monotonic
        self._offset_ms = 0  # market time spent held so far, taken out of the raw clock's
        self._held_before_ms = held_before_ms
        self._on_held = on_held
        self._reported_ms = 0
        self._reported_at = -math.inf
        self._streams: dict[StreamKey, _Stream] = {}
        self._holders: dict[str, _Holder] = {}
        self.timed_out = 0
        self._lock = threading.Lock()

    def now_ms(self) -> int:
        with self._lock:
            return self._settle()

    def register(self, holder: str, streams: Iterable[tuple[str, Timeframe]]) -> None:
        """Replace `holder`'s streams (none: it holds nothing) and renew its lease; a symbol the market
        does not have is refused (422 naming the field) before anything changes."""
        streams = list(streams)
        for k, (symbol, _) in enumerate(streams):
            self._check_symbol(symbol, f"streams[{k}].symbol")
        with self._lock:
            now = self._settle()
            wanted = {(symbol, tf.name): tf for symbol, tf in streams}
            entry = self._holders.setdefault(holder, _Holder())
            entry.streams = set(wanted)
            entry.renewed_at = self._monotonic()
            for key, tf in wanted.items():
                if key not in self._streams:
                    stream = _Stream(key[0], tf)
                    self._advance(stream, now)
                    self._streams[key] = stream
            if not entry.streams:
                del self._holders[holder]
            self._change(self._forget_unheld)

    def release(self, symbol: str, timeframe: Timeframe, bar_time: int) -> bool:
        """The candle of `bar_time` was handled: the stream's hold at the next boundary ends (False: it
        was not pending, nothing changes)."""
        self._check_symbol(symbol, "symbol")
        boundary = timeframe.next_open(bar_time)
        with self._lock:
            self._settle()
            stream = self._streams.get((symbol, timeframe.name))
            if stream is None or stream.boundary_s != boundary or stream.point_ms is None:
                return False
            for entry in self._holders.values():
                if (symbol, timeframe.name) in entry.streams:
                    entry.warned = False

            def advance() -> None:
                assert stream.point_ms is not None
                self._advance(stream, stream.point_ms)

            self._change(advance)
            return True

    def ahead_of(self, symbol: str, timeframe: Timeframe, bar_time: int) -> tuple[bool, int, int | None]:
        """Where the clock stands towards the stream's hold after the candle of `bar_time`: (held there now,
        now_ms, market ms still to run to it; None once there is nothing to wait for: the clock stands at
        it or past it, or no such hold is pending). While an earlier hold of the stream is pending, the
        clock must first get past that one: 0 ms, look again."""
        self._check_symbol(symbol, "symbol")
        boundary = timeframe.next_open(bar_time)
        with self._lock:
            now = self._settle()
            stream = self._streams.get((symbol, timeframe.name))
            if stream is None or stream.point_ms is None or stream.boundary_s > boundary:
                return False, now, None
            if stream.boundary_s < boundary:
                return False, now, max(0, stream.point_ms - now)
            if now >= stream.point_ms:
                return True, now, None
            return False, now, stream.point_ms - now

    async def wait(self, symbol: str, timeframe: Timeframe, bar_time: int) -> tuple[bool, int]:
        """Sleep until the clock stands at the stream's hold after the candle of `bar_time` (or past it,
        or no such hold is pending), at most the hold timeout in wall time: (held there, now_ms).

        Another symbol's tick can close the candle before the stream's own first tick of the new bar; an
        order sent then would fill at the quote before the boundary, not at the held tick the backtest
        fills it at. Never blocks the event loop."""
        deadline = self._monotonic() + self.timeout_s
        while True:
            held, now, ahead_ms = self.ahead_of(symbol, timeframe, bar_time)
            left_s = deadline - self._monotonic()
            if ahead_ms is None or left_s <= 0:
                return held, now
            # The raw clock runs `speed` market ms per wall ms; at least a millisecond, so it never spins.
            await asyncio.sleep(min(_WAIT_STEP_S, left_s, max(0.001, ahead_ms / self.speed / 1000)))

    def read(self) -> dict[str, Any]:
        """The pending holds (earliest first), the holders and how many holds timed out."""
        with self._lock:
            now = self._settle()
            mono = self._monotonic()
            pending = sorted(
                (s for s in self._streams.values() if s.point_ms is not None),
                key=lambda s: (s.point_ms, s.symbol, s.timeframe.seconds),
            )
            return {
                "pending": [
                    {
                        "symbol": s.symbol,
                        "timeframe": s.timeframe.name,
                        "boundary": s.boundary_s,
                        "at_ms": s.point_ms,
                        "holding": s.point_ms == now and self._raw_now() > now,
                    }
                    for s in pending
                ],
                "holders": [
                    {
                        "holder": name,
                        "streams": [{"symbol": k[0], "timeframe": k[1]} for k in sorted(entry.streams)],
                        "lease_left_s": max(0.0, entry.renewed_at + self._lease_s - mono),
                    }
                    for name, entry in sorted(self._holders.items())
                ],
                "timed_out": self.timed_out,
                # Completed holds and the one in progress: how far the market is behind its raw replay.
                "held_ms": self._held_before_ms + self._offset_ms + self._raw_now() - now,
            }

    def report_held(self) -> None:
        """Hand on the time spent held now, even within a second of the last report (at shutdown)."""
        with self._lock:
            self._settle()
            self._report(force=True)

    def _check_symbol(self, symbol: str, field: str) -> None:
        if symbol not in self._symbols:
            raise InvalidInputError(
                f"unknown symbol {symbol!r}; the market has {', '.join(self._symbols)}",
                code="unknown_symbol",
                details={"field": field, "value": symbol},
            )

    # ---- internals (under the lock) ---------------------------------------------------------------------

    def _raw_now(self) -> int:
        return self._raw.now_ms() - self._offset_ms

    def _earliest(self) -> int | None:
        return min((s.point_ms for s in self._streams.values() if s.point_ms is not None), default=None)

    def _settle(self) -> int:
        """End the timed-out holds and drop the expired leases; the clock's now."""
        now = self._end_timeouts()
        mono = self._monotonic()
        expired = [h for h, e in self._holders.items() if mono - e.renewed_at > self._lease_s]
        if expired:
            log.warning("clock holds of %s dropped: their lease was not renewed", ", ".join(expired))

            def drop() -> None:
                for holder in expired:
                    del self._holders[holder]
                self._forget_unheld()

            self._change(drop)
            now = self._end_timeouts()
        self._report(force=False)
        return now

    def _end_timeouts(self) -> int:
        while True:
            now, point = self._raw_now(), self._earliest()
            if point is None or now <= point:
                return now
            if now - point < self._timeout_ms:
                return point
            # Timed out: the clock runs on from the held tick at the moment the timeout ended.
            self._offset_ms += self._timeout_ms
            self._time_out(point)

    def _change(self, mutate: Callable[[], None]) -> None:
        """Apply `mutate` to the streams; when that ends the hold the clock stood at, the clock resumes
        from the held time instead of jumping to the raw time."""
        point = self._earliest()
        held = point if point is not None and self._raw_now() > point else None
        mutate()
        after = self._earliest()
        if held is not None and (after is None or after > held):
            self._offset_ms += self._raw_now() - held
            self._report(force=False)

    def _report(self, *, force: bool) -> None:
        if self._on_held is None or self._offset_ms == self._reported_ms:
            return
        mono = self._monotonic()
        if not force and mono - self._reported_at < _HELD_REPORT_S:
            return
        self._reported_ms, self._reported_at = self._offset_ms, mono
        self._on_held(self._offset_ms)

    def _time_out(self, point: int) -> None:
        late = [s for s in self._streams.values() if s.point_ms == point]
        for stream in late:
            self._advance(stream, point)
        self.timed_out += len(late)
        keys = {(s.symbol, s.timeframe.name) for s in late}
        for name, entry in self._holders.items():
            if entry.streams & keys and not entry.warned:
                entry.warned = True
                log.warning(
                    "clock hold of %s at %d timed out (%s): the market runs on without its decision; "
                    "further timeouts are counted in GET /clock",
                    name,
                    point,
                    ", ".join(f"{s}/{tf}" for s, tf in sorted(entry.streams & keys)),
                )

    def _advance(self, stream: _Stream, after_ms: int) -> None:
        """Move `stream` to the first tick of the first bar opening after `after_ms`."""
        tf = stream.timeframe
        for _ in range(_LOOKAHEAD_TRIES):
            stream.boundary_s = tf.next_open(tf.floor(after_ms // 1000))
            from_ms = stream.boundary_s * 1000
            stream.point_ms = self._first_tick(stream.symbol, from_ms, from_ms + LOOKAHEAD_MS)
            if stream.point_ms is not None:
                return
            after_ms = from_ms + LOOKAHEAD_MS
        # No tick for weeks (a symbol that no longer trades): the stream never holds.

    def _forget_unheld(self) -> None:
        kept: set[StreamKey] = set().union(*(e.streams for e in self._holders.values()))
        for key in [k for k in self._streams if k not in kept]:
            del self._streams[key]
