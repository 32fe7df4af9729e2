"""At a low replay speed, with GBPUSD collected beside EURUSD (as by default), every market order of an
EURUSD instance fills at EURUSD's first tick at or after its signal bar's close: the tick-model backtest's
fill, where the replay clock holds.

The data service closes EURUSD's candle on the first tick of any collected symbol past the bar, often
GBPUSD's before EURUSD's own. At 5x the strategy service then reacts within a few market milliseconds, while
the clock has not reached EURUSD's tick yet: without waiting for the hold (`POST /clock/holds/wait`) such an
order filled at the last quote before the boundary (on the old code 2 of 4 entries did, 0.3-0.45 market s
early). At the parity test's 1200x the reaction lasts past EURUSD's tick, so the race does not show there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shared.market.records import TICKS_DTYPE
from tests.strategy.integration.conftest import SYMBOL, arrow, deals_of, ok
from tests.support.platform import Platform
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OTHER = "GBPUSD"
SPEED = 5.0  # an M1 bar every 12 s
ENTRIES = 3
M1 = 60


def entries(platform: Platform, magic: int) -> list[dict[str, Any]]:
    return [d for d in deals_of(platform, magic) if d["entry"] == 0]


def test_orders_fill_at_the_first_tick_after_the_close_when_another_symbol_closed_the_candle(
    platform_factory: Any,
) -> None:
    # An hour of backfilled history: the instance trades from the first live candle on.
    platform: Platform = platform_factory(speed=SPEED, backfill_max_s=3600, other_symbols=(OTHER,))
    body = {
        "strategy": "sma_crossover",
        "params": {"fast": 2, "slow": 4},
        "symbol": SYMBOL,
        "timeframe": "M1",
    }
    instance = ok(platform.http.post("/api/strategy/strategies", json=body), 201)
    path = f"/api/strategy/strategies/{instance['id']}"
    ok(platform.http.post(f"{path}/start"))
    ok(platform.http.post("/api/data/collection/start", json={"symbols": [SYMBOL, OTHER]}))
    wait_until(lambda: len(entries(platform, instance["magic"])) >= ENTRIES, 400, f"{ENTRIES} entries")
    ok(platform.http.post(f"{path}/stop"))

    # Every deal of the instance is one of its market orders (sma_crossover sets no SL/TP): entries and
    # the closes of the reversals.
    deals = deals_of(platform, instance["magic"])
    signal_closes_ms = [(int(d["comment"].split(":")[0]) + M1) * 1000 for d in deals]
    ticks = arrow(
        platform,
        f"/api/data/ticks/{SYMBOL}",
        TICKS_DTYPE,
        **{"from": min(signal_closes_ms) - M1 * 1000, "to": deals[-1]["time_msc"] + 1},
    )
    for deal, close_ms in zip(deals, signal_closes_ms, strict=True):
        k = int(np.searchsorted(ticks["time_msc"], close_ms))
        buy = deal["type"] == 0
        where = f"{deal['comment']}: filled at {deal['time_msc']}, first tick after the close {ticks[k]}"
        assert deal["time_msc"] == ticks["time_msc"][k], where
        assert deal["price"] == (ticks["ask"][k] if buy else ticks["bid"][k]), where
