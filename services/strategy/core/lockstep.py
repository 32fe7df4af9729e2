"""Lockstep with a replay clock: the mt5 service's replay clock stops at the first tick of each new bar of the
streams registered here until this service says it has handled that bar's candle (orders sent and
answered), so a market order fills at the tick the tick-model backtest fills it at (DESIGN §11, README
"Live versus backtest"). On the real-time clock nothing is registered and nothing is released.

Every call to the mt5 service is best effort: a failure is logged, and the clock's own timeout keeps the
market moving without this service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from services.strategy.core.ports import ClockHolds
from shared.errors import PlatformError
from shared.market.candle_events import ClosedCandle

log = logging.getLogger(__name__)

Stream = tuple[str, str]  # (symbol, timeframe)


class Lockstep:
    """Keeps the clock's holds equal to the running instances' streams, renewed well inside their lease,
    and releases each candle's hold once every runner of its stream has handled it."""

    def __init__(self, holds: ClockHolds, *, retry_s: float) -> None:
        self._holds = holds
        self._retry_s = retry_s
        self._renew_s = retry_s  # a third of the lease once the clock has answered with one
        self._streams: list[Stream] = []
        self._registered: set[Stream] = set()
        self._replay: bool | None = None  # unknown until the mt5 service answers
        self._lock = asyncio.Lock()
        self._renewal: asyncio.Task[None] | None = None
        self._releases: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        """Renew the registration in the background (and find out whether the clock is a replay)."""
        if self._renewal is None:
            self._renewal = asyncio.create_task(self._renew(), name="replay clock holds")

    async def set_streams(self, streams: Iterable[Stream]) -> None:
        """Hold at the new bars of exactly these streams from now on."""
        self._streams = sorted(set(streams))
        await self._sync()

    async def before_orders(self, symbol: str, timeframe: str, bar_time: int) -> None:
        """Wait until the clock stands at the hold after the candle of `bar_time`, the tick the orders of
        that candle fill at in the backtest: the data service closes a candle on the first tick of any
        collected symbol past the bar, which can come before the stream's own. Only for registered streams
        on a replay; a failure is logged and the orders go anyway (an order is never lost to lockstep)."""
        if not self._replay or (symbol, timeframe) not in self._registered:
            return
        try:
            await self._holds.wait(symbol, timeframe, bar_time)
        except PlatformError as exc:
            log.warning(
                "cannot wait for the replay clock hold after %s %s %d: %s; sending the orders now",
                symbol,
                timeframe,
                bar_time,
                exc.message,
            )
        except Exception:  # whatever went wrong, the orders must still be sent
            log.exception("waiting for the replay clock hold after %s %d failed", symbol, bar_time)

    def after(self, candle: ClosedCandle, handled: list[asyncio.Future[None]]) -> None:
        """Release the hold of `candle`'s next bar once `handled` (one future per runner it went to) are
        done, in the background so the event stream is not held up. A candle no runner took (skipped,
        or its instance just stopped) is released at once."""
        stream = (candle.symbol, candle.timeframe)
        if not self._replay or (not handled and stream not in self._registered):
            return
        task = asyncio.create_task(self._release(candle, handled), name=f"release {stream} {candle.time}")
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def aclose(self) -> None:
        """Stop renewing and hold nothing any more, so the clock does not wait for a service gone."""
        if self._renewal is not None:
            self._renewal.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewal
            self._renewal = None
        await asyncio.gather(*self._releases, return_exceptions=True)
        if self._registered:
            await self.set_streams([])

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(self._renew_s if self._replay else self._retry_s)
            await self._sync()

    async def _sync(self) -> None:
        async with self._lock:
            try:
                if not self._replay:
                    self._replay = await self._holds.is_replay()
                if not self._replay:
                    return
                lease_s = await self._holds.register(self._streams)
            except PlatformError as exc:
                if exc.code == "clock_not_replay":
                    self._replay = False
                log.warning("cannot register the replay clock holds: %s", exc.message)
                return
            self._registered = set(self._streams)
            if lease_s:
                self._renew_s = lease_s / 3

    async def _release(self, candle: ClosedCandle, handled: list[asyncio.Future[None]]) -> None:
        await asyncio.gather(*handled, return_exceptions=True)
        try:
            await self._holds.release(candle.symbol, candle.timeframe, candle.time)
        except PlatformError as exc:
            log.warning(
                "cannot release the replay clock hold after %s %s %d: %s",
                candle.symbol,
                candle.timeframe,
                candle.time,
                exc.message,
            )
        except Exception:  # a background task: nobody else would see it
            log.exception("releasing the replay clock hold after %s %d failed", candle.symbol, candle.time)
