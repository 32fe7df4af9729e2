"""EventSubscriber: backoff while the peer is down, events delivered, a failing handler does not stop it."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import orjson
import pytest
from websockets.asyncio.server import ServerConnection, serve

from shared.event_client import EventSubscriber, compute_backoff, events_url


def test_compute_backoff_doubles_from_initial_and_caps() -> None:
    delays = [compute_backoff(n, initial_s=0.2, max_s=5.0) for n in range(8)]

    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0])


def test_events_url_maps_scheme_and_filters() -> None:
    assert events_url("http://127.0.0.1:5001", types="candle.closed", symbols="EURUSD,GBPUSD") == (
        "ws://127.0.0.1:5001/ws/events?types=candle.closed&symbols=EURUSD,GBPUSD"
    )
    assert events_url("https://data.example") == "wss://data.example/ws/events"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_subscriber_peer_down_retries_with_backoff_without_raising() -> None:
    delays: list[float] = []

    async def sleep(delay: float) -> None:
        delays.append(delay)
        if len(delays) == 7:
            raise asyncio.CancelledError  # end the otherwise endless run()

    async def on_event(_: dict[str, Any]) -> None:
        raise AssertionError("no event expected")

    subscriber = EventSubscriber(f"ws://127.0.0.1:{_closed_port()}/ws/events", on_event=on_event, sleep=sleep)

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(subscriber.run())
    assert delays == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert subscriber.connections == 0


def test_subscriber_delivers_events_with_headers_and_survives_a_failing_handler() -> None:
    received: list[dict[str, Any]] = []
    seen_headers: list[str | None] = []

    async def handler(ws: ServerConnection) -> None:
        seen_headers.append(ws.request.headers.get("x-internal-token") if ws.request else None)
        for n in (1, 2):
            await ws.send(orjson.dumps({"type": "heartbeat", "data": {}}).decode())
            await ws.send(orjson.dumps({"type": "candle.closed", "data": {"n": n}}).decode())
        await ws.send("not json")
        await ws.wait_closed()

    async def scenario() -> None:
        done = asyncio.Event()

        async def on_event(event: dict[str, Any]) -> None:
            received.append(event)
            if len(received) == 2:
                done.set()
            if event["data"]["n"] == 1:
                raise RuntimeError("a consumer bug")

        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            subscriber = EventSubscriber(
                f"ws://127.0.0.1:{port}/ws/events", on_event=on_event, headers={"X-Internal-Token": "t0k"}
            )
            subscriber.start()
            await asyncio.wait_for(done.wait(), 10)
            assert subscriber.connected
            await subscriber.aclose()

    asyncio.run(scenario())

    assert [e["data"]["n"] for e in received] == [1, 2]
    assert seen_headers == ["t0k"]
