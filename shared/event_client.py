"""Following another service's `/ws/events`: one WebSocket, reconnected with backoff for as long as it runs.

Services that act on another's events (pattern and strategy on data's `candle.closed`) use this client
directly (DESIGN §4), so trading never depends on the hub. The peer being down is normal: the client keeps
retrying (0.2 s doubling to 5 s by default) and never raises into its owner. A handler that fails on one
event is logged and the stream goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
import websockets

log = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
ConnectHandler = Callable[[], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


def compute_backoff(attempt: int, *, initial_s: float, max_s: float) -> float:
    """Delay before reconnect attempt `attempt` (0-based): initial_s doubling per attempt, capped at max_s."""
    return min(max_s, initial_s * 2 ** min(attempt, 62))


def events_url(base_url: str, *, types: str | None = None, symbols: str | None = None) -> str:
    """The `ws://.../ws/events?types=...&symbols=...` URL of a service at `base_url` (http or https)."""
    url = base_url.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/ws/events"
    query = "&".join(f"{key}={value}" for key, value in (("types", types), ("symbols", symbols)) if value)
    return f"{url}?{query}" if query else url


class EventSubscriber:
    """Calls `on_event(envelope)` for each event a service streams (heartbeats skipped), reconnecting forever.

    `on_connect` runs after every (re)connection, before any event of it: a consumer that keeps state built
    from the stream uses it to drop what it may have missed while disconnected.
    """

    def __init__(
        self,
        url: str,
        *,
        on_event: EventHandler,
        headers: Mapping[str, str] | None = None,
        on_connect: ConnectHandler | None = None,
        initial_backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        open_timeout_s: float = 2.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.url = url
        self._on_event = on_event
        self._on_connect = on_connect
        self._headers = dict(headers or {})
        self._initial_s, self._max_s = initial_backoff_s, max_backoff_s
        self._open_timeout_s = open_timeout_s
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self.connections = 0

    def start(self) -> None:
        """Run in the background on the current event loop."""
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name=f"events {self.url}")

    async def aclose(self) -> None:
        """Stop following and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run(self) -> None:
        """Connect, consume, and on any failure wait the backoff and connect again; returns only if cancelled."""
        attempt = 0
        while True:
            try:
                async with websockets.connect(
                    self.url,
                    additional_headers=self._headers,
                    open_timeout=self._open_timeout_s,
                    ping_interval=None,  # the server sends heartbeats
                    max_size=None,
                ) as ws:
                    self.connected = True
                    self.connections += 1
                    attempt = 0
                    log.info("following events at %s", self.url)
                    if self._on_connect is not None:
                        await self._guarded(self._on_connect())
                    async for message in ws:
                        event = _parse(message)
                        if event is not None:
                            await self._guarded(self._on_event(event))
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                log.debug("event stream %s unavailable: %s", self.url, exc)
            finally:
                self.connected = False
            await self._sleep(compute_backoff(attempt, initial_s=self._initial_s, max_s=self._max_s))
            attempt += 1

    async def _guarded(self, call: Awaitable[None]) -> None:
        # A consumer's bug on one event must not end the subscription for every later event.
        try:
            await call
        except Exception:
            log.exception("event handler failed on %s", self.url)


def _parse(message: str | bytes) -> dict[str, Any] | None:
    try:
        event = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(event, dict) or "type" not in event or event["type"] == "heartbeat":
        return None
    return event
