"""Live detection end to end: the simulated terminal on the replay clock → data's candle.closed →
the pattern service → `pattern.detected` on the hub, all real processes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import websockets

from tests.support.platform import API_KEY, Platform, write_config

MONDAY_JAN_8_0100 = 1_704_675_600  # 2024-01-08 01:00 UTC, the FX market is open


@pytest.mark.integration
def test_pattern_live_detection_from_replayed_market_to_hub(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        overrides={
            "pattern": {
                "live": {"enabled": True, "symbols": ["EURUSD"], "timeframes": ["M1"], "patterns": None}
            },
        },
        replace={
            "mt5": {"simulated": {"clock": "replay", "replay_start": MONDAY_JAN_8_0100, "replay_speed": 120}}
        },
    )
    platform = Platform(config).start()
    try:
        platform.wait_all_online(60)
        port = platform.data["services"]["backend-api"]["port"]

        async def scenario() -> tuple[list[dict], list[dict]]:
            uri = f"ws://127.0.0.1:{port}/ws/events?token={API_KEY}&types=pattern.detected,candle.closed&symbols=EURUSD"
            async with websockets.connect(uri) as ws:
                started = await asyncio.to_thread(
                    platform.http.post, "/api/data/collection/start", json={"symbols": ["EURUSD"]}
                )
                assert started.status_code == 200, started.text
                candles: list[dict] = []
                detections: list[dict] = []
                # Events of two sources reach the hub on two connections: wait for both the detection and
                # the candle.closed of its bar, in whichever order they arrive.
                async with asyncio.timeout(90):
                    while not detections or detections[0]["time"] not in {c["bar"]["time"] for c in candles}:
                        event = json.loads(await ws.recv())
                        if event["type"] == "candle.closed" and event["data"]["timeframe"] == "M1":
                            candles.append(event["data"])
                        elif event["type"] == "pattern.detected":
                            detections.append(event["data"])
                return candles, detections

        candles, detections = asyncio.run(scenario())
    finally:
        platform.stop()
    detected = detections[0]
    assert detected["symbol"] == "EURUSD" and detected["timeframe"] == "M1"
    assert detected["direction"] in ("bullish", "bearish", "neutral") and detected["strength"] > 0
    # The detection is about a bar the data service closed, never a bar still open.
    assert detected["time"] in {c["bar"]["time"] for c in candles}
