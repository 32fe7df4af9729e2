"""Collection through the app against the stand-in mt5 server on the real deterministic market: stored
ticks equal the market's ticks exactly, bars built on the fly equal the market's rates on every
timeframe, and `candle.closed` carries exactly the closed bars."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from services.data.core.stores import DataStores
from shared.market.timeframes import get_timeframe
from tests.data.api.conftest import make_settings, open_client
from tests.data.integration.conftest import MONDAY_JAN_8, assert_matches_market
from tests.data.mt5_standin import StandinMarket, StandinServer
from tests.data.unit.factories import make_ticks
from tests.support.sqlite_space import sqlite_space
from tests.support.waits import wait_until

pytestmark = pytest.mark.integration
SYMBOLS = ["EURUSD", "XAUUSD"]
TICK_CSV_2024_01_08 = "<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>\r\n" + "".join(
    f"2024.01.08\t00:00:{i:02d}\t1.1\t1.2\t\t1\t6\r\n" for i in range(60)
)


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


def test_collection_after_an_old_stored_tick_backfills_only_backfill_max_s(tmp_path: Path) -> None:
    market = StandinMarket(start_ms=(MONDAY_JAN_8 + 150) * 1000, speed=60)
    old_ms = (MONDAY_JAN_8 - 20 * 86_400) * 1000  # e.g. one imported tick, weeks before the market's now
    with StandinServer(market) as server:
        settings = make_settings(
            tmp_path,
            {"collection": {"backfill_max_s": 60, "symbols": ["EURUSD"], "tick_event_interval_ms": 0}},
            mt5_port=server.port,
        )
        with open_client(settings) as client:
            stores: DataStores = client.app.state.stores  # type: ignore[attr-defined]
            stores.ticks.insert_batch("EURUSD", make_ticks(1, start_ms=old_ms))
            assert client.post("/collection/start", json={}).status_code == 200
            target_ms = (MONDAY_JAN_8 + 200) * 1000
            wait_until(
                lambda: (
                    (client.get("/collection/status").json()["symbols"][0]["last_tick_msc"] or 0) > target_ms
                ),
                30,
                "collection past the target time",
            )
            client.post("/collection/stop")

            # Started at now - backfill_max_s, aligned down to the day like a first start; the weeks between
            # stay a gap for gap fill, not 20 days of ticks fetched by collection.
            assert len(stores.ticks.read_range("EURUSD", old_ms + 1, MONDAY_JAN_8 * 1000)) == 0
            assert assert_matches_market(stores, market, "EURUSD", MONDAY_JAN_8) > 0


SHORT_HOLD = {"disk_full_hold_s": 2.0}  # room again: writes succeed this long with none refused


def test_collection_on_a_full_disk_reports_it_once_and_resumes_by_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    market = StandinMarket(start_ms=(MONDAY_JAN_8 + 150) * 1000, speed=60)
    with sqlite_space() as space, StandinServer(market) as server:
        settings = make_settings(
            tmp_path,
            {"collection": {"backfill_max_s": 0, "symbols": ["EURUSD"], "retry_max_s": 0.2}},
            mt5_port=server.port,
        )
        settings = settings.model_copy(update={"system": settings.system.model_copy(update=SHORT_HOLD)})
        with open_client(settings) as client:
            events: list[dict[str, Any]] = []
            client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]
            stores: DataStores = client.app.state.stores  # type: ignore[attr-defined]

            def stored_ms() -> int:
                last = stores.ticks.last_tick("EURUSD")
                return 0 if last is None else int(last["time_msc"])

            client.post("/collection/start", json={})
            wait_until(lambda: stored_ms() > 0, 30, "first ticks stored")

            space.full = True
            health = wait_until(
                lambda: (h := client.get("/health").json())["status"] == "degraded" and h,
                30,
                "health degraded",
            )
            polls = market.requests["ticks_count"] + market.requests["ticks_range"]
            wait_until(
                lambda: market.requests["ticks_count"] + market.requests["ticks_range"] > polls + 30,
                30,
                "collection retrying on the full disk",
            )
            status = client.get("/collection/status").json()["symbols"][0]
            refused_import = client.post("/import", params={"symbol": "GBPUSD"}, content=TICK_CSV_2024_01_08)
            full_ms = stored_ms()

            space.full = False
            wait_until(lambda: client.get("/health").json()["status"] == "ok", 30, "health ok again")
            wait_until(lambda: stored_ms() > full_ms + 5_000, 30, "collection resumed")
            client.post("/collection/stop")

            assert health["checks"]["storage"]["reason"] == "disk_full"
            assert status["running"] and status["error"].startswith("disk_full")
            assert refused_import.status_code == 507
            assert refused_import.json()["error"]["code"] == "disk_full"
            alerts = [e["data"] for e in events if e["type"] == "alert"]
            assert [a["active"] for a in alerts] == [True, False]
            assert all(a["code"] == "disk_full" for a in alerts)
            full_lines = [r for r in caplog.records if "disk full" in r.getMessage()]
            assert len(full_lines) == 1  # one line per state change, however many retries
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r is not full_lines[0]]
            assert assert_matches_market(stores, market, "EURUSD", MONDAY_JAN_8) > 0  # nothing lost or torn
