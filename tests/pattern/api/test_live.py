"""Live detection: candle.closed from the (stand-in) data service in, pattern.detected out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from services.pattern.core.bars_source import BarReader
from services.pattern.core.catalog import Catalog
from services.pattern.core.live import LiveDetector
from services.pattern.core.spec import parse_specs
from services.pattern.settings import PatternSettings
from shared.contracts.data import DataClient
from tests.support.data_standin import DataStandIn
from tests.support.waits import wait_until

Store = dict[tuple[str, str], np.ndarray]


def _bar(row: np.void) -> dict[str, Any]:
    return {name: row[name].item() for name in row.dtype.names or ()}


def _candle(symbol: str, row: np.void, *, backfill: bool = False) -> dict[str, Any]:
    market_ms = (int(row["time"]) + 61) * 1000
    return {
        "symbol": symbol,
        "timeframe": "M1",
        "bar": _bar(row),
        "market_ms": market_ms,
        "backfill": backfill,
    }


@pytest.mark.timeout(30)
def test_live_engulfing_pushed_as_candles_emits_pattern_detected(
    client: TestClient, data: DataStandIn, store: Store, token: dict[str, str]
) -> None:
    bars = store[("GBPUSD", "M1")]
    wait_until(lambda: client.get("/health").json()["checks"]["live"]["following_data_events"], 10, "live")

    with client.websocket_connect("/ws/events?types=pattern.detected", headers=token) as ws:
        data.emit("candle.closed", _candle("GBPUSD", bars[-2], backfill=True))
        data.emit("candle.closed", _candle("GBPUSD", bars[-1]))
        deadline = time.monotonic() + 20
        found = None
        while found is None and time.monotonic() < deadline:
            event = ws.receive_json()
            if event["type"] == "pattern.detected" and event["data"]["pattern"] == "CDLENGULFING":
                found = event

    assert found is not None
    assert found["source"] == "pattern"
    assert found["data"] == {
        "symbol": "GBPUSD",
        "timeframe": "M1",
        "time": int(bars["time"][-1]),
        "pattern": "CDLENGULFING",
        "direction": "bullish",
        "strength": 100,
        "backfill": False,
    }


def test_live_service_stays_up_while_data_service_is_down(down_client: TestClient) -> None:
    response = down_client.get("/health")

    assert response.status_code == 200
    assert response.json()["checks"]["live"] == {"enabled": True, "following_data_events": False}


def _run_detector(settings: PatternSettings, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feed `events` to a LiveDetector reading the stand-in; return what it published."""
    published: list[dict[str, Any]] = []

    async def scenario() -> None:
        catalog = Catalog.candlesticks()
        source = BarReader(DataClient.from_settings(settings, timeout_s=10.0))
        detector = LiveDetector(
            parse_specs("ENGULFING", catalog),
            source,
            lambda _type, data: published.append(data.wire()),
            symbols=["GBPUSD"],
            timeframes=["M1"],
        )
        try:
            for event in events:
                if event["type"] == "reset":
                    await detector.reset()
                else:
                    await detector.on_event(event)
        finally:
            await source.aclose()

    asyncio.run(scenario())
    return published


def test_live_detector_repeats_other_pairs_and_malformed_bars_publish_nothing_more(
    settings: PatternSettings, data: DataStandIn, store: Store
) -> None:
    bars = store[("GBPUSD", "M1")]
    last = {"type": "candle.closed", "data": _candle("GBPUSD", bars[-1])}
    events = [
        {"type": "candle.closed", "data": _candle("GBPUSD", bars[-2])},
        last,
        last,  # a repeat of the newest bar: not new, not detected twice
        {"type": "candle.closed", "data": _candle("GBPUSD", bars[-2])},  # out of order
        {"type": "candle.closed", "data": {**_candle("EURUSD", bars[-1])}},  # a pair not followed
        {"type": "candle.closed", "data": {"symbol": "GBPUSD", "timeframe": "M1", "bar": {"time": "x"}}},
        {"type": "tick", "data": {"symbol": "GBPUSD"}},
    ]

    published = _run_detector(settings, events)

    assert [(p["pattern"], p["time"]) for p in published] == [("CDLENGULFING", int(bars["time"][-1]))]


def test_live_detector_after_reset_seeds_again_from_the_data_service(
    settings: PatternSettings, data: DataStandIn, store: Store
) -> None:
    bars = store[("GBPUSD", "M1")]
    last = {"type": "candle.closed", "data": _candle("GBPUSD", bars[-1])}
    seeds_before = len(data.requests)

    published = _run_detector(settings, [last, {"type": "reset"}, last])

    # Each seed reads the window before the bar, so the engulfing is seen both times.
    assert len(published) == 2
    assert len(data.requests) - seeds_before == 2
