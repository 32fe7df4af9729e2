"""Collection through the app against the stand-in mt5 server on the real deterministic market: stored
ticks equal the market's ticks exactly, bars built on the fly equal the market's rates on every
timeframe, and `candle.closed` carries exactly the closed bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.data.core.stores import DataStores
from shared.market.timeframes import get_timeframe
from tests.data.api.conftest import make_settings, open_client
from tests.data.integration.conftest import MONDAY_JAN_8, assert_matches_market
from tests.data.mt5_standin import StandinMarket, StandinServer
from tests.support.platform import wait_until

pytestmark = pytest.mark.integration
SYMBOLS = ["EURUSD", "XAUUSD"]


def test_collection_stores_the_terminal_ticks_and_bars_exactly(tmp_path: Path) -> None:
    market = StandinMarket(start_ms=(MONDAY_JAN_8 + 150) * 1000, speed=60)
    with StandinServer(market) as server:
        settings = make_settings(
            tmp_path,
            {"collection": {"backfill_max_s": 0, "symbols": SYMBOLS, "tick_event_interval_ms": 0}},
            mt5_port=server.port,
        )
        events: list[dict[str, Any]] = []
        with open_client(settings) as client:
            client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]
            started = client.post("/collection/start", json={})
            assert started.status_code == 200
            target_ms = (MONDAY_JAN_8 + 330) * 1000  # past several M1 closes
            wait_until(
                lambda: all(
                    (s["last_tick_msc"] or 0) > target_ms
                    for s in client.get("/collection/status").json()["symbols"]
                ),
                30,
                "collection past the target time",
            )
            stopped = client.post("/collection/stop").json()
            stores: DataStores = client.app.state.stores  # type: ignore[attr-defined]

            assert not stopped["running"]
            for symbol in SYMBOLS:
                count = assert_matches_market(stores, market, symbol, MONDAY_JAN_8)
                assert count > 500
                m1 = stores.bars.read(symbol, "M1", MONDAY_JAN_8)
                closed = [
                    e["data"]["bar"]["time"]
                    for e in events
                    if e["type"] == "candle.closed"
                    and e["data"]["symbol"] == symbol
                    and e["data"]["timeframe"] == "M1"
                ]
                assert closed == m1["time"][:-1].tolist()  # every bar but the open one, once, in order
            ticks = [e for e in events if e["type"] == "tick"]
            assert ticks and {e["data"]["symbol"] for e in ticks} == set(SYMBOLS)


def test_collection_flags_backfilled_candles_and_stamps_the_market_time(tmp_path: Path) -> None:
    start_s = MONDAY_JAN_8 + 3600
    market = StandinMarket(start_ms=start_s * 1000, speed=60)
    with StandinServer(market) as server:
        settings = make_settings(
            tmp_path,
            {"collection": {"backfill_max_s": 1200, "symbols": ["EURUSD"], "tick_event_interval_ms": 0}},
            mt5_port=server.port,
        )
        events: list[dict[str, Any]] = []
        with open_client(settings) as client:
            client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]
            assert client.post("/collection/start", json={}).status_code == 200
            wait_until(
                lambda: (
                    sum(1 for e in events if e["type"] == "candle.closed" and not e["data"]["backfill"]) >= 3
                ),
                30,
                "three live candles",
            )
            client.post("/collection/stop")

    candles = [e["data"] for e in events if e["type"] == "candle.closed"]
    backfilled = [c for c in candles if c["backfill"]]
    live = [c for c in candles if not c["backfill"]]
    # The 20 minutes before the start were history when collection began: every bar of them is flagged.
    assert len([c for c in backfilled if c["timeframe"] == "M1"]) >= 19
    for candle in backfilled:
        close_s = get_timeframe(candle["timeframe"]).next_open(candle["bar"]["time"])
        assert close_s * 1000 <= candle["market_ms"]
    for candle in live:
        close_s = get_timeframe(candle["timeframe"]).next_open(candle["bar"]["time"])
        assert close_s > start_s  # closed after collection caught up
        assert close_s * 1000 <= candle["market_ms"]  # the market was past the close when it was published
