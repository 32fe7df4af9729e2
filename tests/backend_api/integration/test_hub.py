"""The hub with real sockets: 50 clients, one of which never reads."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time

import websockets

from tests.support.platform import API_KEY, Platform
from tests.support.waits import wait_until

EVENTS = 1000


def _stuck_client(port: int) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads, with a tiny receive buffer."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ws/events?token={API_KEY}&types=alert HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def _server_sockets_towards(server_port: int, client_port: int) -> list[tuple[str, int]]:
    """(TCP state, bytes unsent) of every socket on `server_port` connected to `client_port` on loopback."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote, state = fields[1], fields[2], fields[3]
                if (
                    int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port
                ):
                    found.append((state, int(fields[4].split(":")[0], 16)))
    return found


def test_hub_fans_out_in_order_while_a_stuck_client_is_dropped(platform: Platform) -> None:
    port = platform.data["services"]["backend-api"]["port"]
    uri = f"ws://127.0.0.1:{port}/ws/events?token={API_KEY}&types=alert"

    async def reader(ws: websockets.ClientConnection) -> list[int]:
        seen: list[int] = []
        deadline = time.monotonic() + 60
        while len(seen) < EVENTS and time.monotonic() < deadline:
            event = json.loads(await asyncio.wait_for(ws.recv(), 20))
            if event["type"] == "alert" and event["source"] == "ai":
                seen.append(event["data"]["i"])
        return seen

    async def fan_out() -> list[list[int]]:
        readers = [await websockets.connect(uri, max_size=None) for _ in range(49)]
        await asyncio.sleep(0.3)
        emitted = await asyncio.to_thread(
            platform.http.post, "/api/ai/emit", json={"count": EVENTS, "type": "alert", "payload_bytes": 1000}
        )
        assert emitted.status_code == 200
        results = await asyncio.gather(*(reader(ws) for ws in readers))
        for ws in readers:
            await ws.close()
        return results

    stuck = _stuck_client(port)
    try:
        results = asyncio.run(fan_out())
        assert all(seen == list(range(EVENTS)) for seen in results)
        # Keep publishing: once the stuck client's socket buffers (a few MB) are full, its sends time out
        # and the hub disconnects it, leaving no subscriber behind.
        for _ in range(10):
            platform.http.post("/api/ai/emit", json={"count": 500, "type": "alert", "payload_bytes": 4000})
        wait_until(
            lambda: platform.http.get("/api/status").json()["hub"]["clients"] == 0, 15, "stuck client dropped"
        )
        # Dropped means gone: no server socket left holding megabytes for a peer that still does not read.
        client_port = stuck.getsockname()[1]
        wait_until(
            lambda: not _server_sockets_towards(port, client_port), 15, "the stuck client's connection freed"
        )
    finally:
        stuck.close()


def test_hub_filters_by_type_and_symbol_and_accepts_subscribe_messages(platform: Platform) -> None:
    port = platform.data["services"]["backend-api"]["port"]

    async def scenario() -> tuple[list[str], list[str]]:
        base = f"ws://127.0.0.1:{port}/ws/events?token={API_KEY}"
        async with (
            websockets.connect(f"{base}&types=tick&symbols=EURUSD") as by_query,
            websockets.connect(base) as by_message,
        ):
            await by_message.send(
                json.dumps({"action": "subscribe", "types": ["tick"], "symbols": ["GBPUSD"]})
            )
            await asyncio.sleep(0.3)
            for symbol in ("EURUSD", "GBPUSD", "USDJPY"):
                await asyncio.to_thread(
                    platform.http.post, "/api/ai/emit", json={"count": 1, "type": "tick", "symbol": symbol}
                )
            await asyncio.to_thread(
                platform.http.post, "/api/ai/emit", json={"count": 1, "type": "alert", "symbol": "EURUSD"}
            )

            async def collect(ws: websockets.ClientConnection) -> list[str]:
                # Other services stream events too (mt5 ticks), so read for a fixed time, not until silence.
                got: list[str] = []
                deadline = time.monotonic() + 2.0
                try:
                    while (left := deadline - time.monotonic()) > 0:
                        event = json.loads(await asyncio.wait_for(ws.recv(), left))
                        if event["source"] == "ai":
                            got.append(f"{event['type']}:{event['data']['symbol']}")
                except TimeoutError:
                    pass
                return got

            return await collect(by_query), await collect(by_message)

    by_query, by_message = asyncio.run(scenario())
    assert by_query == ["tick:EURUSD"]
    assert by_message == ["tick:GBPUSD"]


def test_hub_rejects_websocket_without_token(platform: Platform) -> None:
    port = platform.data["services"]["backend-api"]["port"]

    async def scenario() -> int | None:
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/ws/events") as ws:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None
        except websockets.InvalidStatus as refused:
            return refused.response.status_code
        return None

    assert asyncio.run(scenario()) in (1008, 403)
