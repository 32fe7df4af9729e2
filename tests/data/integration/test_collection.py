"""Collection through the app against the stand-in mt5 server on the real deterministic market: stored
ticks equal the market's ticks exactly, bars built on the fly equal the market's rates on every
timeframe, and `candle.closed` carries exactly the closed bars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from services.data.core.stores import DataStores
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
