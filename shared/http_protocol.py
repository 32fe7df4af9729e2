"""uvicorn's HTTP protocol with a deadline on the request head.

uvicorn times out idle keep-alive connections, but not a client that sends a request head slowly or only
half of it: each such connection is held for as long as the client likes, and a few thousand of them hold
a server's slots. This protocol closes a connection whose request head is not complete within
`head_timeout_s` of the connection opening or of its previous request finishing.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar, cast

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.auto import AutoHTTPProtocol

log = logging.getLogger(__name__)


class HeadTimeoutProtocol(asyncio.Protocol):
    """Wraps uvicorn's own protocol (httptools or h11), which does all the HTTP; this only keeps the clock.

    The head is complete when the protocol calls the app, so the app it calls is wrapped to stop the clock.
    """

    head_timeout_s: ClassVar[float] = 5.0

    def __init__(self, **kwargs: Any) -> None:  # uvicorn's config, server_state, app_state and _loop
        self._inner: Any = cast(Any, AutoHTTPProtocol(**kwargs))  # its `app` is not on asyncio.Protocol
        self._loop = kwargs.get("_loop") or asyncio.get_event_loop()
        self._transport: asyncio.BaseTransport | None = None
        self._deadline: asyncio.TimerHandle | None = None
        app: ASGIApp = self._inner.app

        async def app_after_head(scope: Scope, receive: Receive, send: Send) -> None:
            self._stop_clock()
            try:
                await app(scope, receive, send)
            finally:
                self._start_clock()  # the next request on this connection has the same deadline

        self._inner.app = app_after_head

    def _start_clock(self) -> None:
        self._stop_clock()
        self._deadline = self._loop.call_later(self.head_timeout_s, self._expire)

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        # A head parsed in this loop turn has its request cycle, but the app task that stops the clock has
        # not run yet (a loaded loop runs due timers after the I/O callbacks of the same turn): keep it.
        cycle = getattr(self._inner, "cycle", None)
        if cycle is not None and not cycle.response_complete:
            return
        # After a WebSocket upgrade the transport belongs to the WebSocket protocol: not ours to close.
        transport = self._transport
        if transport is not None and transport.get_protocol() is self and not transport.is_closing():
            log.debug("closing a connection whose request head did not arrive in %s s", self.head_timeout_s)
            transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # uvloop's transports are not asyncio.Transport subclasses
        self._start_clock()
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        self._inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


def with_head_timeout(timeout_s: float) -> type[asyncio.Protocol]:
    """The protocol class to hand uvicorn (`http=`), with its deadline."""
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout_s": timeout_s})
