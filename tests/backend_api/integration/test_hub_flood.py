"""An event flood through the hub to 200 clients: the supervisor and the gateway keep working."""

from __future__ import annotations

import asyncio
import threading

import httpx
import websockets

from tests.support.platform import API_KEY, Platform

CLIENTS = 200
SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")


def _flood(platform: Platform, done: threading.Event) -> None:
    """Ticks for four symbols and alerts, straight from the child (as a collection backfill would)."""
    headers = {"X-Internal-Token": platform.internal_token()}
    with httpx.Client(base_url=platform.url("ai"), headers=headers, timeout=30) as child:
        for n in range(40):
            child.post("/emit", json={"count": 1000, "type": "tick", "symbol": SYMBOLS[n % 4]})
            child.post("/emit", json={"count": 500, "type": "alert", "payload_bytes": 200})
    done.set()


def test_hub_flood_to_many_clients_restarts_nothing_and_the_gateway_answers(platform: Platform) -> None:
    port = platform.data["services"]["backend-api"]["port"]
    uri = f"ws://127.0.0.1:{port}/ws/events?token={API_KEY}&types=tick,alert"
    answers: list[int] = []

    async def scenario() -> int:
        clients = [await websockets.connect(uri, max_size=None) for _ in range(CLIENTS)]
        received = 0

        async def read(ws: websockets.ClientConnection) -> None:
            nonlocal received
            async for _ in ws:
                received += 1

        readers = [asyncio.create_task(read(ws)) for ws in clients]
        done = threading.Event()
        flood = asyncio.create_task(asyncio.to_thread(_flood, platform, done))
        while not done.is_set():  # the gateway, to backend-api itself and through to a child
            for path in ("/api/services", "/api/data/health"):
                answers.append((await asyncio.to_thread(platform.http.get, path)).status_code)
            await asyncio.sleep(0.2)
        await flood
        for ws in clients:
            await ws.close()
        await asyncio.gather(*readers, return_exceptions=True)
        return received

    received = asyncio.run(scenario())
    assert received > 0
    assert answers and set(answers) == {200}
    statuses = platform.statuses()
    assert {name: (s["state"], s["restarts"]) for name, s in statuses.items()} == {
        name: ("ONLINE", 0) for name in statuses
    }
