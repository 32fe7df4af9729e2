"""A collector that makes no progress on an open market says so (issue 16): in its status, once per change
as an `alert`, and in the data service's /health; the stand-in terminal is made to return no ticks while
its clock moves on."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.data.core.stores import DataStores
from tests.data.api.conftest import make_settings, open_client
from tests.data.integration.conftest import MONDAY_JAN_8, assert_matches_market
from tests.data.mt5_standin import StandinMarket, StandinServer
from tests.data.unit.factories import make_ticks
from tests.support.waits import wait_until

pytestmark = pytest.mark.integration
# At speed 60 a minute of market time passes in a second: the stall is seen within about a second of wall time.
STALL = {"stall_after_s": 60, "stall_min_wall_s": 0.5}


def _status(client: TestClient) -> dict[str, Any]:
    return client.get("/collection/status").json()["symbols"][0]  # type: ignore[no-any-return]


def _alerts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e["data"] for e in events if e["type"] == "alert" and e["data"]["code"] == "collection_stalled"]


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_collection_silent_terminal_on_an_open_market_is_stalled_once_then_recovers(tmp_path: Path) -> None:
    market = StandinMarket(start_ms=(MONDAY_JAN_8 + 150) * 1000, speed=60)
    with StandinServer(market) as server:
        settings = make_settings(
            tmp_path,
            {"collection": {"backfill_max_s": 0, "symbols": ["EURUSD"], **STALL}},
            mt5_port=server.port,
        )
        with open_client(settings) as client:
            events: list[dict[str, Any]] = []
            client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]
            client.post("/collection/start", json={})
            wait_until(lambda: _status(client)["last_tick_msc"], 30, "first ticks")
            assert not _status(client)["stalled"]

            market.silent = True
            stalled = wait_until(lambda: (s := _status(client))["stalled"] and s, 30, "collection stalled")
            health = client.get("/health").json()
            still = wait_until(
                lambda: (s := _status(client))["lag_ms"] > stalled["lag_ms"] + 60_000 and s,
                30,
                "the market a minute further",
            )

            market.silent = False
            wait_until(lambda: not _status(client)["stalled"], 30, "collection recovered")
            recovered_health = client.get("/health").json()
            client.post("/collection/stop")
            stores: DataStores = client.app.state.stores  # type: ignore[attr-defined]

            assert stalled["running"] and stalled["error"] is None
            assert stalled["stalled_since_ms"] >= stalled["last_tick_msc"]
            assert f"no tick after {_iso(stalled['last_tick_msc'])}" in stalled["reason"]
            assert (
                still["stalled_since_ms"] == stalled["stalled_since_ms"]
            )  # one stall, not a new one per poll
            assert health["status"] == "degraded"
            assert health["checks"]["collection"]["ok"] is False
            assert health["checks"]["collection"]["stalled"] == {"EURUSD": stalled["reason"]}
            assert recovered_health["status"] == "ok"
            alerts = _alerts(events)
            assert [(a["symbol"], a["active"]) for a in alerts] == [("EURUSD", True), ("EURUSD", False)]
            assert alerts[0]["since_ms"] == stalled["stalled_since_ms"]
            assert assert_matches_market(stores, market, "EURUSD", MONDAY_JAN_8) > 0  # nothing lost meanwhile


def test_collection_behind_stored_ticks_after_an_earlier_replay_start_is_stalled(tmp_path: Path) -> None:
    market = StandinMarket(start_ms=(MONDAY_JAN_8 + 3600) * 1000, speed=60)
    ahead_ms = (MONDAY_JAN_8 + 7200) * 1000  # stored by an earlier run of a replay that had got further
    with StandinServer(market) as server:
        settings = make_settings(
            tmp_path,
            {"collection": {"backfill_max_s": 0, "symbols": ["EURUSD"], **STALL}},
            mt5_port=server.port,
        )
        with open_client(settings) as client:
            events: list[dict[str, Any]] = []
            client.app.state.bus.add_listener(events.append)  # type: ignore[attr-defined]
            client.app.state.stores.ticks.insert_batch("EURUSD", make_ticks(1, start_ms=ahead_ms))  # type: ignore[attr-defined]
            client.post("/collection/start", json={})
            stalled = wait_until(lambda: (s := _status(client))["stalled"] and s, 30, "collection stalled")
            client.post("/collection/stop")

    assert stalled["running"] and stalled["error"] is None
    assert _iso(ahead_ms) in stalled["reason"] and "ahead of the market" in stalled["reason"]
    alerts = _alerts(events)
    assert [a["active"] for a in alerts] == [True, False]  # stopping ends the stall, and says so
