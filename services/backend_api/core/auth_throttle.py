"""Failed authentications per client address: counted in a window, logged without flooding, throttled.

A client that fails `max_failures` times within `window_s` of its first failure is refused (429) for the
rest of that window, whichever key it sends next, so guessing the key costs time. The log gets the first
failure of a window, the moment throttling starts and, once it ends, how many requests were refused, never
one line per guess (and never the key).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Window:
    started: float
    failures: int = 0
    refused: int = 0


class AuthThrottle:
    def __init__(
        self,
        max_failures: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._max_clients = max_clients
        self._windows: dict[str, _Window] = {}

    def retry_after_s(self, client: str) -> int | None:
        """Whole seconds `client` must wait before it may try again, or None if it may try now."""
        window = self._current(client)
        if window is None or window.failures < self.max_failures:
            return None
        window.refused += 1
        return max(1, math.ceil(window.started + self.window_s - self._clock()))

    def failed(self, client: str, method: str, path: str) -> None:
        """Count one failed authentication of `client` on `method path`."""
        window = self._current(client)
        if window is None:
            self._make_room()
            window = self._windows[client] = _Window(self._clock())
            log.warning("failed authentication from %s on %s %s", client, method, path)
        window.failures += 1
        if window.failures == self.max_failures:
            log.warning(
                "%d failed authentications from %s within %.0f s (last on %s %s): refusing it for the rest "
                "of the window",
                window.failures,
                client,
                self.window_s,
                method,
                path,
            )

    def _current(self, client: str) -> _Window | None:
        window = self._windows.get(client)
        if window is not None and self._clock() - window.started >= self.window_s:
            self._end(client, window)
            return None
        return window

    def _end(self, client: str, window: _Window) -> None:
        del self._windows[client]
        if window.refused:
            log.warning("%s refused %d more requests while throttled", client, window.refused)

    def _make_room(self) -> None:
        """Bound the table: expired windows go first, then the oldest (a flood of addresses is no leak)."""
        if len(self._windows) < self._max_clients:
            return
        now = self._clock()
        for client, window in list(self._windows.items()):
            if now - window.started >= self.window_s:
                self._end(client, window)
        while len(self._windows) >= self._max_clients:
            self._windows.pop(next(iter(self._windows)))
