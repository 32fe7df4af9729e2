"""Terminal connection health: detect a lost terminal, reconnect with backoff, make callers fail fast.

Pure and synchronous: the service calls `poll()` from a worker thread on a timer (sleeping for the
seconds it returns), `connect()`/`disconnect()` for POST /connect and /disconnect, `require_connected()`
before every terminal call and `status()` for /health. Time is injected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.mt5.core.terminal import Terminal
from shared.errors import ServiceUnavailableError


class ConnectionState(StrEnum):
    DISCONNECTED = "disconnected"  # not connected, by intent (never connected, or POST /disconnect)
    CONNECTED = "connected"
    LOST = "lost"  # the terminal went away or refused to connect; reconnecting with backoff


_TRANSITIONS: dict[tuple[ConnectionState, str], ConnectionState] = {
    (ConnectionState.DISCONNECTED, "connect_ok"): ConnectionState.CONNECTED,
    (ConnectionState.DISCONNECTED, "connect_failed"): ConnectionState.LOST,
    (ConnectionState.CONNECTED, "connect_ok"): ConnectionState.CONNECTED,
    (ConnectionState.CONNECTED, "probe_failed"): ConnectionState.LOST,
    (ConnectionState.CONNECTED, "disconnect"): ConnectionState.DISCONNECTED,
    (ConnectionState.LOST, "connect_ok"): ConnectionState.CONNECTED,
    (ConnectionState.LOST, "connect_failed"): ConnectionState.LOST,
    (ConnectionState.LOST, "disconnect"): ConnectionState.DISCONNECTED,
}


@dataclass(frozen=True)
class ConnectionChange:
    """One state transition, for the `connection` event the service publishes."""

    from_state: ConnectionState
    to_state: ConnectionState
    reason: str


def compute_backoff(attempt: int, base_s: float = 1.0, cap_s: float = 60.0) -> float:
    """Delay before reconnect attempt number `attempt` (1-based): base, 2 * base, 4 * base … capped."""
    return min(cap_s, base_s * 2 ** (attempt - 1))


class ConnectionMonitor:
    """Watches one terminal and keeps it connected."""

    def __init__(
        self,
        terminal: Terminal,
        *,
        connect: Callable[[Terminal], bool] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        probe_interval_s: float = 5.0,
        base_delay_s: float = 1.0,
        max_delay_s: float = 60.0,
        on_change: Callable[[ConnectionChange], None] | None = None,
    ) -> None:
        self._terminal = terminal
        self._connect = connect or (lambda t: t.initialize())
        self._monotonic = monotonic
        self._probe_interval_s = probe_interval_s
        self._base_delay_s = base_delay_s
        self._max_delay_s = max_delay_s
        self._on_change = on_change
        self.state = ConnectionState.DISCONNECTED
        self.reason = "not connected yet"
        self.failed_attempts = 0
        self._next_attempt_at = 0.0

    def connect(self) -> bool:
        """Connect now (start-up, POST /connect); a failure starts the reconnect backoff."""
        # A terminal that starts but has no trade server cannot take orders: not connected yet, so a
        # lost broker keeps the backoff going instead of flapping between connected and lost.
        reason = self._offline_reason() if self._connect(self._terminal) else self._last_error()
        if reason is None:
            self._fire("connect_ok", "connected")
            return True
        self.failed_attempts += 1
        self._next_attempt_at = self._monotonic() + self._delay(self.failed_attempts + 1)
        self._fire("connect_failed", reason)
        return False

    def disconnect(self) -> None:
        """Shut the terminal down on purpose: no reconnecting until connect() is called."""
        self._terminal.shutdown()
        if self.state is not ConnectionState.DISCONNECTED:
            self._fire("disconnect", "disconnected on request")

    def poll(self) -> float:
        """One step: probe a connected terminal, or retry a lost one when due. Returns seconds to the next."""
        now = self._monotonic()
        if self.state is ConnectionState.CONNECTED:
            reason = self._offline_reason()
            if reason is not None:
                self.failed_attempts = 0
                self._next_attempt_at = now + self._delay(1)
                self._fire("probe_failed", reason)
                return self._delay(1)
            return self._probe_interval_s
        if self.state is ConnectionState.LOST:
            if now < self._next_attempt_at:
                return self._next_attempt_at - now
            self.connect()
            return (
                self._probe_interval_s
                if self.state is ConnectionState.CONNECTED
                else self._next_attempt_at - now
            )
        return self._probe_interval_s

    def require_connected(self) -> None:
        """Raise ServiceUnavailableError at once unless connected: nobody waits on a dead terminal."""
        if self.state is ConnectionState.CONNECTED:
            return
        retry_in = max(0.0, self._next_attempt_at - self._monotonic())
        message = (
            f"terminal connection lost ({self.reason}); reconnecting, next attempt in {retry_in:.0f} s"
            if self.state is ConnectionState.LOST
            else "terminal not connected; POST /connect to connect"
        )
        raise ServiceUnavailableError(message, code="terminal_unavailable", details=self.status())

    def status(self) -> dict[str, Any]:
        """The connection's state for /health."""
        status: dict[str, Any] = {
            "state": self.state.value,
            "reason": self.reason,
            "failed_attempts": self.failed_attempts,
        }
        if self.state is ConnectionState.LOST:
            status["next_attempt_in_s"] = round(max(0.0, self._next_attempt_at - self._monotonic()), 3)
        return status

    def _delay(self, attempt: int) -> float:
        return compute_backoff(attempt, self._base_delay_s, self._max_delay_s)

    def _offline_reason(self) -> str | None:
        """Why the terminal cannot trade now (gone, or without its trade server); None when it can."""
        info = self._terminal.terminal_info()
        if info is None:
            return self._last_error()
        return None if info.connected else "terminal reports no connection to the trade server"

    def _last_error(self) -> str:
        code, message = self._terminal.last_error()
        return f"{message} ({code})"

    def _fire(self, trigger: str, reason: str) -> None:
        before = self.state
        self.state = _TRANSITIONS[(before, trigger)]
        self.reason = reason
        if self.state is ConnectionState.CONNECTED:
            self.failed_attempts = 0
        if self.state is not before and self._on_change is not None:
            self._on_change(ConnectionChange(before, self.state, reason))
