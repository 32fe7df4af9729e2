"""The terminal behind one worker thread: every call serialised there, the connection kept up, events out.

Terminal calls are synchronous (the MetaTrader5 module blocks), so they all run in one dedicated thread
and the event loop only awaits them. Background tasks keep the connection up (ConnectionMonitor.poll),
settle the simulated terminal's paper broker, or look at a real terminal's activity, and publish the
events (`order.*`, `position.*`, `account.updated`, `account.margin_call`, `account.stop_out`), and
publish the latest quote of each configured symbol as `tick` events, at most one per symbol per interval.
Connection changes are published as `terminal.connection` (from/to), and as `terminal.connected` /
`terminal.disconnected` for those who only need to know whether orders can go now.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from services.mt5.core.connection import ConnectionChange, ConnectionMonitor, ConnectionState
from services.mt5.core.simulated.broker import BrokerEvent
from services.mt5.core.terminal import Terminal
from shared.disk_full import DiskFullError
from shared.errors import InvalidInputError, NotFoundError, PlatformError, ServiceUnavailableError
from shared.event_catalog import (
    CATALOG,
    TERMINAL_CONNECTED,
    TERMINAL_CONNECTION,
    TERMINAL_DISCONNECTED,
    TICK,
)
from shared.event_payloads import (
    Publish,
    TerminalConnected,
    TerminalConnection,
    TerminalDisconnected,
    TickData,
)
from shared.market import mt5_constants as mt5

log = logging.getLogger(__name__)

T = TypeVar("T")


def broker_event_data(event: BrokerEvent) -> dict[str, Any]:
    """The event's data with `symbol` at the top level, so stream filters by symbol see every event."""
    data = dict(event.data)
    request = data.get("request")
    if "symbol" not in data and isinstance(request, dict) and request.get("symbol"):
        data["symbol"] = request["symbol"]
    return data


def terminal_failure(terminal: Terminal, what: str) -> PlatformError:
    """The error for a terminal call that returned None, from `last_error()` (MT5's failure report)."""
    code, message = terminal.last_error()
    details = {"last_error": [code, message]}
    if code == mt5.RES_E_NOT_FOUND:
        return NotFoundError(f"{what}: {message}", code="not_found", details=details)
    if code == mt5.RES_E_INVALID_PARAMS:
        return InvalidInputError(f"{what}: {message}", code="invalid_params", details=details)
    return ServiceUnavailableError(
        f"{what} failed: {message} ({code})", code="terminal_error", details=details
    )


class TerminalGateway:
    """Owns one terminal: its worker thread, its connection monitor and its background publishers."""

    def __init__(
        self,
        terminal: Terminal,
        *,
        backend: str,
        publish: Publish,
        connect: Callable[[Terminal], bool] | None = None,
        probe_interval_s: float = 5.0,
        reconnect_initial_s: float = 1.0,
        reconnect_max_s: float = 60.0,
        sync_interval_ms: int = 100,
        tick_event_interval_ms: int = 250,
        tick_symbols: Sequence[str] = (),
        sync: Callable[[], list[BrokerEvent]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.terminal = terminal
        # What happened at the terminal since the last look: the paper broker's settlement, or a real
        # terminal's activity; None: nothing to publish.
        self._sync: Callable[[], list[BrokerEvent]] | None = sync or getattr(terminal, "sync", None)
        self.backend = backend
        self._publish = publish
        self._sync_interval_s = sync_interval_ms / 1000
        self._tick_interval_s = tick_event_interval_ms / 1000
        self._tick_symbols = tuple(tick_symbols)
        self._last_tick_ms: dict[str, int] = {}
        self._probe_interval_s = probe_interval_s
        self.monitor = ConnectionMonitor(
            terminal,
            connect=connect,
            monotonic=monotonic,
            probe_interval_s=probe_interval_s,
            base_delay_s=reconnect_initial_s,
            max_delay_s=reconnect_max_s,
            on_change=self._on_connection_change,
        )
        self._executor: ThreadPoolExecutor | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # ----- lifecycle -------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker, connect (a failure only starts the reconnect backoff) and the background tasks."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mt5-terminal")
        await self._in_worker(self.monitor.connect)
        loops: list[Callable[[], Coroutine[Any, Any, None]]] = [self._connection_loop]
        if self._sync is not None:
            # The first look before anything else is served: what happened while the service was down is
            # published, and what is there now is the baseline that later looks compare with.
            await self._sync_once(self._sync)
            loops.append(self._sync_loop)
        if self._tick_interval_s > 0 and self._tick_symbols:
            loops.append(self._tick_loop)
        self._tasks = [asyncio.create_task(loop(), name=f"mt5-{loop.__name__}") for loop in loops]

    async def aclose(self) -> None:
        """Stop the background tasks, shut the terminal down and stop the worker."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._executor is not None:
            await self._in_worker(self.terminal.shutdown)
            self._executor.shutdown(wait=True)
            self._executor = None

    # ----- calls -----------------------------------------------------------------------------------------

    async def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `call(*args, **kwargs)` in the worker; fails fast with 503 while the terminal is away."""
        self.monitor.require_connected()
        return await self._in_worker(call, *args, **kwargs)

    async def call(self, what: str, call: Callable[..., T | None], *args: Any, **kwargs: Any) -> T:
        """run(), with MT5's failure (None, reason in last_error) raised as an error naming `what`."""
        return await self.run(self.checked, what, call, *args, **kwargs)

    def checked(self, what: str, call: Callable[..., T | None], *args: Any, **kwargs: Any) -> T:
        """`call(...)` in the worker; None raises terminal_failure (last_error is read in the same thread)."""
        result = call(*args, **kwargs)
        if result is None:
            raise terminal_failure(self.terminal, what)
        return result

    async def connect(self) -> dict[str, Any]:
        """Connect now (POST /connect); the result is in the returned status."""
        await self._in_worker(self.monitor.connect)
        return self.status()

    async def disconnect(self) -> dict[str, Any]:
        """Disconnect on purpose (POST /disconnect): no reconnecting until connect()."""
        await self._in_worker(self.monitor.disconnect)
        return self.status()

    def status(self) -> dict[str, Any]:
        """The backend and its connection state, for /health."""
        return {
            "ok": self.monitor.state is ConnectionState.CONNECTED,
            "backend": self.backend,
            **self.monitor.status(),
        }

    @property
    def connected(self) -> bool:
        return self.monitor.state is ConnectionState.CONNECTED

    async def _in_worker(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._executor is None:
            raise RuntimeError("TerminalGateway.start() was not awaited")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args, **kwargs))

    # ----- background tasks ------------------------------------------------------------------------------

    def _on_connection_change(self, change: ConnectionChange) -> None:
        log.info("terminal connection %s -> %s (%s)", change.from_state, change.to_state, change.reason)
        self._publish(
            TERMINAL_CONNECTION,
            TerminalConnection(
                backend=self.backend,
                from_=change.from_state.value,
                to=change.to_state.value,
                reason=change.reason,
            ),
        )
        if change.to_state is ConnectionState.CONNECTED:
            self._publish(TERMINAL_CONNECTED, TerminalConnected(backend=self.backend, reason=change.reason))
            return
        self._publish(
            TERMINAL_DISCONNECTED,
            TerminalDisconnected(
                backend=self.backend,
                state=change.to_state.value,
                reason=change.reason,
                next_attempt_in_s=self.monitor.status().get("next_attempt_in_s"),
            ),
        )

    async def _connection_loop(self) -> None:
        while True:
            try:
                delay = await self._in_worker(self.monitor.poll)
            except Exception:
                log.exception("terminal connection check failed")
                delay = self._probe_interval_s
            # Re-check at least every probe interval, so a POST /connect or /disconnect is followed soon.
            await asyncio.sleep(max(0.05, min(delay, self._probe_interval_s)))

    async def _sync_loop(self) -> None:
        sync = self._sync
        assert sync is not None
        while True:
            await asyncio.sleep(self._sync_interval_s)
            await self._sync_once(sync)

    async def _sync_once(self, sync: Callable[[], list[BrokerEvent]]) -> None:
        if not self.connected:
            return
        try:
            events = await self._in_worker(sync)
        except DiskFullError:
            return  # reported once by the broker's storage state; the next sync retries the write
        except Exception:
            log.exception("reading what happened at the terminal failed")
            return
        for event in events:
            self._publish(event.type, CATALOG[event.type].payload.model_validate(broker_event_data(event)))

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self._tick_interval_s)
            if not self.connected:
                continue
            try:
                ticks = await self._in_worker(self._latest_ticks)
            except Exception:
                log.exception("reading the latest ticks failed")
                continue
            for symbol, tick in ticks.items():
                if tick.time_msc > self._last_tick_ms.get(symbol, -1):
                    self._last_tick_ms[symbol] = tick.time_msc
                    self._publish(TICK, TickData(symbol=symbol, **tick._asdict()))

    def _latest_ticks(self) -> dict[str, Any]:
        ticks = {s: self.terminal.symbol_info_tick(s) for s in self._tick_symbols}
        return {s: t for s, t in ticks.items() if t is not None}
