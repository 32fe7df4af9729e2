"""Live/backtest parity to the tick: an instance of donchian_breakout (its entries carry their own ATR
stop-loss level) trades the simulated terminal on the replay clock; then the backtesting service runs the
same strategy, parameters and sizing over the same stored M5 bars with `model: "ticks"` (the ticks the data
service collected from the same terminal).

Everything is identical, and asserted: the trades' signal bars, directions and volumes, their SL levels,
their entries (the market order's fill tick: same time_msc, same price, same volume) and every exit the
broker made by itself (SL, TP: same tick, same price).

The entries are identical because the replay clock holds (mt5 `PUT /clock/holds`): the market stops at the
first tick of each new M5 bar, the tick the tick model fills a signal at, until the strategy service has
handled the closed candle and its order is answered, so the live order fills at that held tick instead of
after the platform's reaction time (tens of market seconds at 1200x). GBPUSD is traded and collected too,
as by default: its first tick after a boundary can close EURUSD's candle before EURUSD's own first tick,
and the strategy service then waits for the hold (`POST /clock/holds/wait`) before sending the order.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from tests.strategy.integration.conftest import SYMBOL, arrow, deals_of, ok
from tests.support.platform import Platform
from tests.support.waits import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OTHER = "GBPUSD"  # collected too: its ticks close EURUSD's candles before EURUSD's own first tick, often
SPEED = 1200.0  # an M5 bar every 0.25 s
BARS_LIVE = 240  # twenty hours of M5
M5 = 300
PARAMS = {"entry_period": 12, "exit_period": 6, "atr_period": 10, "stop_atr": 1.5}
SIZING = {"mode": "fixed", "value": 0.1}
DEAL_REASON_SL, DEAL_REASON_TP = 4, 5


def mt5_now_s(platform: Platform) -> int:
    return int(ok(platform.http.get(f"/api/mt5/symbols/{SYMBOL}"))["time"])


def signal_bar(deal: dict[str, Any]) -> int:
    """The bar whose signal sent the deal's order: the `{bar_time}:{action}` in its comment."""
    return int(deal["comment"].split(":")[0])


def test_parity_live_deals_equal_a_ticks_model_backtest(platform_factory: Any) -> None:
    platform: Platform = platform_factory(speed=SPEED, other_symbols=(OTHER,))
    body = {"strategy": "donchian_breakout", "params": PARAMS, "symbol": SYMBOL, "timeframe": "M5"}
    instance = ok(platform.http.post("/api/strategy/strategies", json={**body, "sizing": SIZING}), 201)
    path = f"/api/strategy/strategies/{instance['id']}"
    ok(platform.http.post(f"{path}/start"))
    started_s = mt5_now_s(platform)
    ok(platform.http.post("/api/data/collection/start", json={"symbols": [SYMBOL, OTHER]}))
    ok(platform.http.post("/api/services/backtesting/start"))
    wait_until(lambda: mt5_now_s(platform) > started_s + BARS_LIVE * M5, 180, "twenty market hours")
    stopped = ok(platform.http.post(f"{path}/stop"))
    last_bar = stopped["last_bar_time"]
    ok(platform.http.post("/api/data/collection/stop", json={"symbols": [SYMBOL, OTHER]}))
    platform.wait_state("backtesting", "ONLINE", 60)

    bars = arrow(platform, f"/api/data/ohlc/{SYMBOL}/M5", RATES_DTYPE, **{"from": 0, "to": last_bar})
    request = {
        **body,
        "from": int(bars["time"][0]),
        "to": last_bar,
        "model": "ticks",
        "sizing": SIZING,
        "initial_balance": 10_000,
        "finalize_trades": False,
    }
    job = ok(platform.http.post("/api/backtesting/backtest/start", json=request), 202)
    status = wait_until(
        lambda: (
            (s := ok(platform.http.get(f"/api/backtesting/backtest/{job['id']}/status")))["state"]
            in ("completed", "failed")
            and s
        ),
        120,
        "the ticks-model backtest",
    )
    assert status["state"] == "completed", status["error"]
    trades = ok(platform.http.get(f"/api/backtesting/backtest/{job['id']}/result"))["trades"]
    ticks = arrow(
        platform,
        f"/api/data/ticks/{SYMBOL}",
        TICKS_DTYPE,
        **{"from": int(bars["time"][0]) * 1000, "to": (last_bar + M5) * 1000},
    )

    deals = deals_of(platform, instance["magic"])
    entries = [d for d in deals if d["entry"] == 0]
    exits = {d["position_id"]: d for d in deals if d["entry"] == 1}
    n = len(trades["entry_time"])
    assert n >= 3, "too few trades to compare"
    # The live list may end with a position still open (the backtest lists closed trades only).
    assert 0 <= len(entries) - n <= 1
    times = ticks["time_msc"]
    broker_exits = 0
    for k, entry in enumerate(entries[:n]):
        where = f"trade {k}: live {entry['comment']} @ {entry['price']}"
        side = 1 if entry["type"] == 0 else -1
        # Same signal bar: the backtest's fill tick is the first at or after that bar's close.
        backtest_fill = int(trades["entry_time_msc"][k])
        assert backtest_fill == times[np.searchsorted(times, (signal_bar(entry) + M5) * 1000)], where
        # Same entry: live filled at that tick (the clock held there), at its ask (buy) or bid (sell).
        assert entry["time_msc"] == backtest_fill, where
        assert entry["price"] == trades["entry_price"][k], where
        assert np.sign(trades["size"][k]) == side and abs(trades["size"][k]) == entry["volume"], where
        out = exits.get(entry["position_id"])
        if out is not None and out["reason"] in (DEAL_REASON_SL, DEAL_REASON_TP):
            reason = "stop_loss" if out["reason"] == DEAL_REASON_SL else "take_profit"
            assert trades["exit_reason"][k] == reason, where
            assert int(trades["exit_time_msc"][k]) == out["time_msc"], where
            assert trades["exit_price"][k] == out["price"], where
            broker_exits += 1
    assert broker_exits >= 1, "no SL/TP exit to compare"
