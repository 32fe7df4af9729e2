"""How late the event loop runs: a health check that timed out while backend-api itself was late says
nothing about the child, so the supervisor asks this before counting a failure against it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable


class LoopLagMonitor:
    """Samples the loop's scheduling delay every `interval_s`, keeping the last `window_s` of samples."""

    def __init__(
        self, interval_s: float, *, window_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._interval_s = interval_s
        self.window_s = window_s
        self._clock = clock
        self._samples: deque[tuple[float, float]] = deque(maxlen=max(1, int(window_s / interval_s)))
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="loop-lag")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            started = self._clock()
            await asyncio.sleep(self._interval_s)
            now = self._clock()
            self._samples.append((now, max(0.0, now - started - self._interval_s)))

    async def current(self) -> float:
        """The lag right now: how long a turn of the loop takes to come back to us."""
        started = self._clock()
        await asyncio.sleep(0)
        return self._clock() - started

    def max_since(self, since: float) -> float:
        """The worst lag sampled at or after `since` (on this monitor's clock)."""
        return max((lag for at, lag in self._samples if at >= since), default=0.0)

    def now(self) -> float:
        return self._clock()

    def percentile(self, fraction: float) -> float:
        """A percentile of the lag over the window, e.g. 0.99."""
        lags = sorted(lag for at, lag in self._samples if at >= self._clock() - self.window_s)
        return lags[min(len(lags) - 1, int(len(lags) * fraction))] if lags else 0.0
