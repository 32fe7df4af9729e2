"""The mt5 service as a real process behind the gateway: hub events, and nothing lost on kill -9."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import websockets

from shared.columnar import ARROW_MEDIA_TYPE, decode_arrow, from_columns
from shared.market.records import TICKS_DTYPE
from tests.support.platform import API_KEY, Platform, write_config
from tests.support.waits import wait_until

OTHERS = ("data", "pattern", "strategy", "ai", "backtesting")
FAST_HEALTH = {
    "health_interval_s": 0.3,
    "health_timeout_s": 1.0,
    "health_failures": 2,
    "backoff_initial_s": 0.2,
}
REPLAY = {"simulated": {"clock": "replay", "replay_start": "2025-11-19T13:00:00Z", "seed": 3}}
ORDER = {"symbol": "EURUSD", "type": "BUY", "volume": 0.3, "client_order_id": "it-entry-1"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """backend-api and the mt5 service only, on a replay clock that starts on a Wednesday."""
    config = write_config(
        tmp_path_factory.mktemp("mt5-platform"), overrides={"orchestrator": FAST_HEALTH, "mt5": REPLAY}
    )
    data = json.loads(config.read_text())
    for name in OTHERS:
        data["services"][name]["auto_start"] = False
    config.write_text(json.dumps(data))
    running = Platform(config).start()
    try:
        running.wait_state("mt5", "ONLINE", 60)
        wait_until(lambda: _hub_follows_mt5(running), 30, "hub following mt5's event stream")
        yield running
    finally:
        running.stop()


def _hub_follows_mt5(platform: Platform) -> bool:
    return bool(platform.http.get("/api/status").json()["hub"]["upstreams"].get("mt5"))


def _book(platform: Platform) -> dict[str, Any]:
    positions = platform.http.get("/api/mt5/positions").json()
    stable = ("ticket", "identifier", "type", "volume", "price_open", "sl", "tp", "symbol", "time_msc")
    return {
        "positions": [{k: p[k] for k in stable} for p in positions],
        "orders": platform.http.get("/api/mt5/orders").json(),
        "deals": platform.http.get("/api/mt5/history/deals").json(),
        "history_orders": platform.http.get("/api/mt5/history/orders").json(),
        "balance": platform.http.get("/api/mt5/account").json()["balance"],
    }


def test_order_through_gateway_reaches_hub_clients_and_survives_kill_9(platform: Platform) -> None:
    port = platform.data["services"]["backend-api"]["port"]
    uri = f"ws://127.0.0.1:{port}/ws/events?token={API_KEY}&types=order.*,position.*"

    async def send_and_listen() -> tuple[Any, list[dict[str, Any]]]:
        async with websockets.connect(uri) as ws:
            events: list[dict[str, Any]] = []
            response = await asyncio.to_thread(platform.http.post, "/api/mt5/orders", json=ORDER)
            while {"order.filled", "position.opened"} - {e["type"] for e in events}:
                event = json.loads(await asyncio.wait_for(ws.recv(), 10))
                if event.get("source") == "mt5":
                    events.append(event)
            return response, events

    response, events = asyncio.run(send_and_listen())
    assert response.status_code == 200, response.text
    first = response.json()
    by_type = {e["type"]: e["data"] for e in events}
    assert by_type["order.filled"]["ticket"] == first["order"]
    assert by_type["position.opened"]["ticket"] == first["order"]
    before = _book(platform)
    assert len(before["positions"]) == 1

    pid = platform.wait_state("mt5", "ONLINE")["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: (s := platform.statuses().get("mt5")) and s["state"] == "ONLINE" and s["pid"] != pid,
        60,
        "mt5 back ONLINE with a new pid",
    )

    assert _book(platform) == before
    retry = platform.http.post("/api/mt5/orders", json=ORDER)
    assert retry.status_code == 200 and retry.json() == first
    assert len(platform.http.get("/api/mt5/positions").json()) == 1


def test_ticks_stream_through_the_gateway_in_json_and_arrow(platform: Platform) -> None:
    path = "/api/mt5/ticks/USDJPY?from=2025-11-19T09:00:00Z&to=2025-11-19T10:00:00Z"
    as_json = platform.http.get(path)
    as_arrow = platform.http.get(path, headers={"Accept": ARROW_MEDIA_TYPE})
    assert as_json.status_code == as_arrow.status_code == 200
    ticks = from_columns(as_json.json()["columns"], TICKS_DTYPE)
    assert len(ticks) > 1000
    np.testing.assert_array_equal(decode_arrow(as_arrow.content, TICKS_DTYPE), ticks)
