"""A running instance and a collection that starts with an hour of backfill: the backfilled candles reach
the instance as `candle.closed` flagged as such, and not one of them is traded; the live candles after them
are."""

from __future__ import annotations

from typing import Any

import pytest

from tests.strategy.integration.conftest import SYMBOL, deals_of, ok
from tests.support.platform import Platform
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SPEED = 120.0  # an M1 bar every 0.5 s


def test_backfill_candles_reach_a_running_instance_and_none_is_traded(platform_factory: Any) -> None:
    platform: Platform = platform_factory(speed=SPEED, backfill_max_s=3600)
    body = {
        "strategy": "sma_crossover",
        "params": {"fast": 2, "slow": 4},
        "symbol": SYMBOL,
        "timeframe": "M1",
    }
    instance = ok(platform.http.post("/api/strategy/strategies", json=body), 201)
    path = f"/api/strategy/strategies/{instance['id']}"
    ok(platform.http.post(f"{path}/start"))
    collection_start_s = int(ok(platform.http.get(f"/api/mt5/symbols/{SYMBOL}"))["time"])
    ok(platform.http.post("/api/data/collection/start", json={"symbols": [SYMBOL]}))

    # An hour of M1 bars before the start is stored (and was published)...
    def stored_before_start() -> int:
        params = {"from": 0, "to": collection_start_s}
        return int(ok(platform.http.get(f"/api/data/ohlc/{SYMBOL}/M1", params=params))["count"])

    wait_until(lambda: stored_before_start() >= 55, 60, "the backfilled hour stored")
    # ... and the instance goes on trading live candles.
    wait_until(lambda: len(deals_of(platform, instance["magic"])) >= 2, 90, "two live trades")
    ok(platform.http.post(f"{path}/stop"))

    deals = deals_of(platform, instance["magic"])
    signal_closes = [int(d["comment"].split(":")[0]) + 60 for d in deals]
    assert min(signal_closes) > collection_start_s, deals  # no order for a candle closed before the start
    # Each order went out soon after its candle closed, never an hour later (the first may wait for the
    # service's warm-up, a second of wall time, two minutes of market at this speed).
    ages = [d["time_msc"] // 1000 - close for d, close in zip(deals, signal_closes, strict=True)]
    assert max(ages) <= 600, (ages, deals)
