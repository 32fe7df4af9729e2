"""Serving an EventBus over a WebSocket: filters, snapshot, lag notices, send timeout, heartbeats.

Used by every service's `/ws/events` and by the hub in backend-api. Each client gets its own bounded
queue and sender task; a client that does not read within the send timeout, or that keeps losing events
beyond a bound, is disconnected, so it can never hold up the bus or other clients. A sender sends at most
one batch per turn of the event loop, so a flood to many clients never starves other work.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from shared.event_catalog import HEARTBEAT, STREAM_LAGGED
from shared.event_payloads import Heartbeat, Lagged, Payload
from shared.events import EventBus, EventFilter, Subscription, envelope
from shared.utils import get_timestamp_ms

log = logging.getLogger(__name__)

CLOSE_TOO_SLOW = 1013  # "try again later": the client fell behind the send timeout or its queue


async def serve_event_stream(
    websocket: WebSocket,
    bus: EventBus,
    *,
    queue_size: int,
    send_timeout_s: float,
    heartbeat_interval_s: float,
    send_batch: int,
    max_lost_events: int,
    snapshot: Iterable[str] = (),
    lag_event_type: str = STREAM_LAGGED,
) -> None:
    """Accept `websocket` and stream `bus` events matching its filters until either side closes."""
    params = websocket.query_params
    sub = bus.subscribe(EventFilter.parse(params.get("types"), params.get("symbols")), queue_size)
    await websocket.accept()
    limits = _Limits(send_timeout_s, heartbeat_interval_s, send_batch, max_lost_events)
    sender = asyncio.create_task(_send_loop(websocket, bus, sub, limits, snapshot, lag_event_type))
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


@dataclass(frozen=True, slots=True)
class _Limits:
    send_timeout_s: float
    heartbeat_interval_s: float
    send_batch: int
    max_lost_events: int


def _notice(bus: EventBus, event_type: str, data: Payload) -> str:
    return orjson.dumps(envelope(bus.source, event_type, data, seq=0, ts=get_timestamp_ms())).decode()


async def _send_loop(
    websocket: WebSocket,
    bus: EventBus,
    sub: Subscription,
    limits: _Limits,
    snapshot: Iterable[str],
    lag_event_type: str,
) -> None:
    lost = 0  # events dropped since the client last caught up with its queue
    try:
        async with asyncio.timeout(limits.send_timeout_s):
            for raw in snapshot:
                await websocket.send_text(raw)
        while True:
            if not sub.queue:
                lost = 0
            if not await sub.wait(limits.heartbeat_interval_s):
                items, dropped = [_notice(bus, HEARTBEAT, Heartbeat())], 0
            else:
                items, dropped = sub.drain(limits.send_batch)
            if dropped:
                lost += dropped
                if lost > limits.max_lost_events:
                    await _disconnect(websocket, f"lagging: lost {lost} events without catching up")
                    return
                items.insert(0, _notice(bus, lag_event_type, Lagged(dropped=dropped)))
            async with asyncio.timeout(limits.send_timeout_s):
                for raw in items:
                    await websocket.send_text(raw)
            # The server's send returns without suspending while the socket takes data: without this turn
            # one client's whole backlog would go out in a single step of the loop, starving all other work.
            await asyncio.sleep(0)
    except TimeoutError:
        await _disconnect(websocket, f"send timeout: not read within {limits.send_timeout_s:g} s")
    except (WebSocketDisconnect, RuntimeError, OSError):
        return


async def _disconnect(websocket: WebSocket, reason: str) -> None:
    log.warning("event stream client %s disconnected: %s", websocket.client, reason)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(websocket.close(code=CLOSE_TOO_SLOW, reason=reason), 1.0)
