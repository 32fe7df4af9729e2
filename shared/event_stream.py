"""Serving an EventBus over a WebSocket: filters, snapshot, lag notices, send timeout, heartbeats.

Used by every service's `/ws/events` and by the hub in backend-api. Each client gets its own bounded
queue and sender task; a client that does not read within the send timeout is disconnected, so it can
never hold up the bus or other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from shared.events import EventBus, EventFilter, Subscription
from shared.utils import get_timestamp_ms

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1013  # "try again later": the client fell behind the send timeout


async def serve_event_stream(
    websocket: WebSocket,
    bus: EventBus,
    *,
    queue_size: int,
    send_timeout_s: float,
    heartbeat_interval_s: float,
    snapshot: Iterable[str] = (),
    lag_event_type: str = "stream.lagged",
) -> None:
    """Accept `websocket` and stream `bus` events matching its filters until either side closes."""
    params = websocket.query_params
    sub = bus.subscribe(EventFilter.parse(params.get("types"), params.get("symbols")), queue_size)
    await websocket.accept()
    sender = asyncio.create_task(
        _send_loop(websocket, bus, sub, send_timeout_s, heartbeat_interval_s, snapshot, lag_event_type)
    )
    try:
        await _receive_loop(websocket, sub, sender)
    finally:
        bus.unsubscribe(sub)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender


async def _receive_loop(websocket: WebSocket, sub: Subscription, sender: asyncio.Task[None]) -> None:
    """Apply `{"action": "subscribe", "types": [...], "symbols": [...]}` messages; end on disconnect."""
    receiver = asyncio.ensure_future(websocket.receive_text())
    try:
        while True:
            done, _ = await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                return
            try:
                text = receiver.result()
            except (WebSocketDisconnect, RuntimeError):
                return
            _apply_message(sub, text)
            receiver = asyncio.ensure_future(websocket.receive_text())
    finally:
        receiver.cancel()
        with contextlib.suppress(BaseException):
            await receiver


def _apply_message(sub: Subscription, text: str) -> None:
    try:
        message = orjson.loads(text)
    except orjson.JSONDecodeError:
        return
    if isinstance(message, dict) and message.get("action") == "subscribe":
        sub.filter = EventFilter.parse(message.get("types"), message.get("symbols"))


async def _send_loop(
    websocket: WebSocket,
    bus: EventBus,
    sub: Subscription,
    send_timeout_s: float,
    heartbeat_interval_s: float,
    snapshot: Iterable[str],
    lag_event_type: str,
) -> None:
    try:
        async with asyncio.timeout(send_timeout_s):
            for raw in snapshot:
                await websocket.send_text(raw)
        while True:
            if not await sub.wait(heartbeat_interval_s):
                beat = {
                    "seq": 0,
                    "ts": get_timestamp_ms(),
                    "source": bus.source,
                    "type": "heartbeat",
                    "data": {},
                }
                items, dropped = [orjson.dumps(beat).decode()], 0
            else:
                items, dropped = sub.drain()
            if dropped:
                notice = {
                    "seq": 0,
                    "ts": get_timestamp_ms(),
                    "source": bus.source,
                    "type": lag_event_type,
                    "data": {"dropped": dropped},
                }
                items.insert(0, orjson.dumps(notice).decode())
            async with asyncio.timeout(send_timeout_s):
                for raw in items:
                    await websocket.send_text(raw)
    except TimeoutError:
        log.warning("event stream client %s too slow; disconnecting", websocket.client)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(websocket.close(code=CLOSE_TOO_SLOW), 1.0)
    except (WebSocketDisconnect, RuntimeError, OSError):
        return
