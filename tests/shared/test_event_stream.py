"""The WebSocket event stream in-process: a client that keeps losing events is cut with a close code."""

from __future__ import annotations

import pytest
from fastapi import FastAPI, Request, WebSocket
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from shared.event_stream import CLOSE_TOO_SLOW, serve_event_stream
from shared.events import EventBus


def _app(max_lost_events: int) -> FastAPI:
    app = FastAPI()
    app.state.bus = EventBus("test")

    @app.post("/emit/{count}")
    async def emit(count: int, request: Request) -> None:
        for i in range(count):  # in one step of the loop: the sender cannot drain in between
            request.app.state.bus.publish("alert", {"i": i})

    @app.websocket("/ws/events")
    async def events(websocket: WebSocket) -> None:
        await serve_event_stream(
            websocket,
            app.state.bus,
            queue_size=10,
            send_timeout_s=5,
            heartbeat_interval_s=5,
            send_batch=4,
            max_lost_events=max_lost_events,
            lag_event_type="test.lagged",
        )

    return app


def test_event_stream_client_losing_more_than_the_bound_is_closed_with_reason() -> None:
    with TestClient(_app(max_lost_events=50)) as client, client.websocket_connect("/ws/events") as ws:
        client.post("/emit/100")  # 90 lost at once, beyond the bound of 50
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == CLOSE_TOO_SLOW
        assert "lagging: lost 90 events" in closed.value.reason


def test_event_stream_client_within_the_bound_is_told_and_keeps_the_newest_in_batches() -> None:
    with TestClient(_app(max_lost_events=1000)) as client, client.websocket_connect("/ws/events") as ws:
        client.post("/emit/100")
        received = [ws.receive_json() for _ in range(11)]
        assert received[0]["type"] == "test.lagged" and received[0]["data"] == {"dropped": 90}
        assert [e["data"]["i"] for e in received[1:]] == list(range(90, 100))
