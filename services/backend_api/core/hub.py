"""The event hub's upstream half: one reconnecting client per child `/ws/events`, feeding backend-api's bus.

The bus then fans every event out to browser clients through `shared.event_stream`, each with its own
bounded queue. Children's envelopes are forwarded as received (serialised once, never re-encoded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import orjson
import websockets

from shared.events import EventBus
from shared.service_app import INTERNAL_TOKEN_HEADER

log = logging.getLogger(__name__)


class ChildEventRelay:
    """Subscribes to each child's event stream and dispatches its events on `bus`, reconnecting forever."""

    def __init__(
        self,
        bus: EventBus,
        children: Iterable[tuple[str, str]],
        *,
        internal_token: str,
        reconnect_initial_s: float = 0.2,
        reconnect_max_s: float = 2.0,
    ) -> None:
        self._bus = bus
        self._children = list(children)
        self._token = internal_token
        self._initial_s, self._max_s = reconnect_initial_s, reconnect_max_s
        self._tasks: list[asyncio.Task[None]] = []
        self._wake: dict[str, asyncio.Event] = {name: asyncio.Event() for name, _ in self._children}
        self.connected: dict[str, bool] = {name: False for name, _ in self._children}

    def wake(self, name: str) -> None:
        """Reconnect to `name` now instead of after the backoff (the supervisor saw it come ONLINE)."""
        if name in self._wake:
            self._wake[name].set()

    def start(self) -> None:
        for name, base_url in self._children:
            url = base_url.replace("http://", "ws://").replace("https://", "wss://") + "/ws/events"
            self._tasks.append(asyncio.create_task(self._follow(name, url), name=f"relay-{name}"))

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _follow(self, name: str, url: str) -> None:
        delay = self._initial_s
        while True:
            try:
                async with websockets.connect(
                    url,
                    additional_headers={INTERNAL_TOKEN_HEADER: self._token},
                    open_timeout=2,
                    ping_interval=None,
                    max_size=None,
                ) as ws:
                    self.connected[name] = True
                    delay = self._initial_s
                    log.info("hub: following %s events", name)
                    async for message in ws:
                        self._relay(message)
                        # Receiving does not suspend while messages are buffered, and each one is offered
                        # to every hub client: yield, so a child's burst never holds the loop.
                        await asyncio.sleep(0)
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                log.debug("hub: %s stream unavailable: %s", name, exc)
            finally:
                self.connected[name] = False
            wake = self._wake[name]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)
            wake.clear()
            delay = min(self._max_s, delay * 2)

    def _relay(self, message: str | bytes) -> None:
        text = message.decode() if isinstance(message, bytes) else message
        try:
            event = orjson.loads(text)
        except orjson.JSONDecodeError:
            return
        if not isinstance(event, dict) or event.get("type") == "heartbeat" or "type" not in event:
            return
        self._bus.dispatch(event, text)
