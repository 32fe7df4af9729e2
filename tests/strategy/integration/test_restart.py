"""`kill -9` of the strategy service while an instance holds a position: the supervisor restarts it, the
instance resumes by itself, adopts its position, and no order is ever sent twice."""

from __future__ import annotations

import os
import signal
from collections import Counter
from typing import Any

import pytest

from tests.strategy.integration.conftest import SYMBOL, deals_of, ok
from tests.support.platform import Platform
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SPEED = 600.0  # an M5 bar every 0.5 s


def open_positions(platform: Platform, magic: int) -> list[dict[str, Any]]:
    positions = ok(platform.http.get("/api/mt5/positions", params={"symbol": SYMBOL}))
    return [p for p in positions if p["magic"] == magic]


def restarted(platform: Platform, old_pid: int) -> bool:
    status = platform.statuses().get("strategy")
    return bool(status and status["state"] == "ONLINE" and status["pid"] != old_pid)


def test_restart_kill_9_resumes_adopts_and_never_duplicates(platform_factory: Any) -> None:
    platform: Platform = platform_factory(speed=SPEED)
    body = {
        "strategy": "sma_crossover",
        "params": {"fast": 3, "slow": 10},
        "symbol": SYMBOL,
        "timeframe": "M5",
    }
    instance = ok(platform.http.post("/api/strategy/strategies", json=body), 201)
    path = f"/api/strategy/strategies/{instance['id']}"
    ok(platform.http.post(f"{path}/start"))
    ok(platform.http.post("/api/data/collection/start", json={"symbols": [SYMBOL]}))
    (held,) = wait_until(
        lambda: open_positions(platform, instance["magic"]), 60, "a position of the instance"
    )

    old_pid = platform.statuses()["strategy"]["pid"]
    os.kill(old_pid, signal.SIGKILL)
    wait_until(lambda: restarted(platform, old_pid), 60, "the supervisor to restart the strategy service")

    overview = ok(platform.http.get("/api/strategy/strategies"))
    assert held["ticket"] in overview["reconciliation"]["adopted"][instance["id"]]
    assert ok(platform.http.get(path))["state"] == "running"
    # It keeps trading after the restart: wait for two more orders of its own.
    before = len(deals_of(platform, instance["magic"]))
    wait_until(
        lambda: len(deals_of(platform, instance["magic"])) >= before + 2, 60, "trades after the restart"
    )
    ok(platform.http.post(f"{path}/stop"))

    deals = deals_of(platform, instance["magic"])
    comments = Counter(d["comment"] for d in deals)
    assert all(count == 1 for count in comments.values()), comments
    # One position at a time: entries and exits alternate, and the adopted one was closed by the instance
    # (or is still open), never doubled.
    held_now = 0
    for deal in deals:
        held_now += 1 if deal["entry"] == 0 else -1
        assert held_now in (0, 1), deals
    assert len(open_positions(platform, instance["magic"])) == held_now
    closes = [d for d in deals if d["entry"] == 1 and d["position_id"] == held["ticket"]]
    assert len(closes) <= 1
    if closes:
        assert closes[0]["comment"].endswith(f"close-{held['ticket']}")
