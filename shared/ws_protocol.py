"""uvicorn's WebSocket protocol, changed to let go of a peer that stopped reading.

uvicorn waits for the socket to drain before it writes a close frame, and ends a connection with a
graceful `transport.close()`, which first flushes the write buffer: towards a peer that never reads, both
wait forever, and the connection stays open with everything written to it unsent. Here a close towards a
peer that has stopped taking data, and a close handshake it does not finish within the close timeout,
reset the connection instead, which frees the socket and its buffers at once.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct

from uvicorn._types import ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

log = logging.getLogger(__name__)

_RESET_ON_CLOSE = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST and drops unsent data


class ResettingWebSocketProtocol(WebSocketsSansIOProtocol):
    async def send(self, message: ASGISendEvent) -> None:
        if message["type"] != "websocket.close" or not self.handshake_complete or self.close_sent:
            await super().send(message)
            return
        if not self.writable.is_set():
            # The peer's buffers are full: a close frame would queue behind them and never arrive.
            code, reason = message.get("code", 1000), message.get("reason") or ""
            log.info("resetting a WebSocket peer that stopped reading (close %s: %s)", code, reason)
            self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
            self.close_sent = True
            self._reset()
            return
        await super().send(message)
        if self.close_timer is not None:  # the handshake may never finish: reset instead of flushing
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(self.close_timeout, self._reset)

    def _reset(self) -> None:
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        self.transport.abort()
