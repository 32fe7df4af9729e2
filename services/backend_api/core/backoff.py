"""Restart timing: exponential backoff with a cap, reset after a stable run, and a budget that gives up."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable


def compute_backoff(
    attempt: int, *, initial_s: float, max_s: float, jitter: float = 0.0, rng: random.Random | None = None
) -> float:
    """Delay before restart number `attempt` (1-based): initial·2^(attempt-1), capped, with ±jitter fraction."""
    delay = min(max_s, initial_s * 2 ** max(0, attempt - 1))
    if jitter and rng is not None:
        delay *= 1 + jitter * (2 * rng.random() - 1)
    return min(max_s, max(0.0, delay))


class RestartPolicy:
    """Decides, after each failure, how long to wait before restarting, or that it is time to give up.

    The backoff doubles with consecutive failures and returns to the initial delay once the service has
    been ONLINE for `reset_after_s`. More than `budget` failures within `window_s` means give up (ERROR).
    """

    def __init__(
        self,
        *,
        initial_s: float,
        max_s: float,
        reset_after_s: float,
        budget: int,
        window_s: float,
        clock: Callable[[], float],
    ) -> None:
        self._initial_s, self._max_s = initial_s, max_s
        self._reset_after_s, self._budget, self._window_s = reset_after_s, budget, window_s
        self._clock = clock
        self._failures: deque[float] = deque()
        self._consecutive = 0
        self._online_since: float | None = None

    def record_online(self) -> None:
        self._online_since = self._clock()

    def record_failure(self) -> float | None:
        """Register a failure; the delay before the next start, or None when the budget is spent."""
        now = self._clock()
        if self._online_since is not None and now - self._online_since >= self._reset_after_s:
            self._consecutive = 0
        self._online_since = None
        self._failures.append(now)
        while self._failures and now - self._failures[0] > self._window_s:
            self._failures.popleft()
        if len(self._failures) > self._budget:
            return None
        self._consecutive += 1
        return compute_backoff(self._consecutive, initial_s=self._initial_s, max_s=self._max_s)

    def reset(self) -> None:
        """A manual start forgives past failures."""
        self._failures.clear()
        self._consecutive = 0
        self._online_since = None
