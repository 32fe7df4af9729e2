"""Live instances trade only candles that are news: backfilled or stale candles are recorded, never traded,
and a position held across a gap is still managed after it."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from services.strategy.core.freshness import FreshnessRule, NewestMarketTime
from services.strategy.core.planning import client_id
from shared.market.candle_events import ClosedCandle
from shared.market.records import RATES_DTYPE
from shared.market.timeframes import get_timeframe
from tests.strategy.unit.conftest import World, candle_event
from tests.strategy.unit.test_runner import ENTRY_LONG, REVERSE
from tests.support.waits import wait_until_async

M1, M15, H1 = (get_timeframe(name) for name in ("M1", "M15", "H1"))
WEDNESDAY_10H = 1_700_042_400  # 2023-11-15 10:00 UTC
FRIDAY_21_45 = 1_700_257_500  # 2023-11-17 21:45 UTC: the week's last M15 bar (the market closes at 22:00)
SUNDAY_22H = 1_700_431_200  # 2023-11-19 22:00 UTC: the week opens
RULE = FreshnessRule(max_age_bars=0.5)


def candle(bar_time: int, *, market_ms: int | None, backfill: bool = False) -> ClosedCandle:
    bar = np.zeros(1, dtype=RATES_DTYPE)
    bar["time"] = bar_time
    return ClosedCandle("EURUSD", "M15", bar, market_ms, backfill)


def test_freshness_bound_is_half_a_bar_unless_set_per_timeframe() -> None:
    rule = FreshnessRule(max_age_bars=0.5, max_age_s={"H1": 120})
    assert rule.bound_s(M1, WEDNESDAY_10H) == 30
    assert rule.bound_s(M15, WEDNESDAY_10H) == 450
    assert rule.bound_s(H1, WEDNESDAY_10H) == 120


def test_freshness_candle_within_its_bound_is_traded() -> None:
    fresh = candle(WEDNESDAY_10H, market_ms=(WEDNESDAY_10H + 900 + 449) * 1000)
    assert RULE.skip_reason(fresh, M15, None) is None


def test_freshness_candle_past_its_bound_is_stale_by_the_newest_market_time() -> None:
    published = candle(WEDNESDAY_10H, market_ms=(WEDNESDAY_10H + 901) * 1000)
    later_ms = (WEDNESDAY_10H + 900 + 451) * 1000  # another event since: the candle waited in a queue
    assert RULE.skip_reason(published, M15, later_ms) == {
        "skipped": "stale",
        "age_s": 451.0,
        "max_age_s": 450,
    }


def test_freshness_backfilled_candle_is_never_traded_whatever_its_age() -> None:
    fresh_but_backfilled = candle(WEDNESDAY_10H, market_ms=(WEDNESDAY_10H + 901) * 1000, backfill=True)
    assert RULE.skip_reason(fresh_but_backfilled, M15, None) == {"skipped": "backfill"}


def test_freshness_without_any_market_time_nothing_is_traded() -> None:
    assert RULE.skip_reason(candle(WEDNESDAY_10H, market_ms=None), M15, None) == {"skipped": "no_market_time"}


def test_freshness_weekend_does_not_age_fridays_last_candle() -> None:
    # Published at Sunday's first tick: the next bar's open, where the backtest fills its signal.
    friday = candle(FRIDAY_21_45, market_ms=SUNDAY_22H * 1000 + 300)
    assert RULE.age_s(M15, FRIDAY_21_45, SUNDAY_22H * 1000 + 300) == pytest.approx(0.3)
    assert RULE.skip_reason(friday, M15, None) is None
    # ... but an hour of trading later it is stale.
    assert RULE.skip_reason(friday, M15, (SUNDAY_22H + 3600) * 1000) is not None


def test_market_clock_keeps_the_newest_time() -> None:
    clock = NewestMarketTime()
    for ms in (5_000, None, 3_000, 7_000):
        clock.observe(ms)
    assert clock.now_ms() == 7_000


def test_instance_backfilled_candles_trade_nothing_and_are_recorded_skipped(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        bars = world.bars.stored
        for i in range(18, len(bars)):  # an entry and a reversal among them
            await world.service.on_event(candle_event(bars, i, backfill=True))
        runner = world.service.running[instance["id"]]
        last = int(bars["time"][-1])
        await wait_until_async(lambda: runner.last_bar_time == last, 5, "every candle handled")
        assert world.broker.requests == []
        record = await world.store.worker.run(world.store.get, instance["id"])
        assert record.last_signal == {"bar_time": last, "skipped": "backfill"}
        await world.service.aclose()

    asyncio.run(scenario())


def test_instance_candle_older_than_the_market_clock_allows_is_skipped(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        bars = world.bars.stored
        # The entry candle arrives after the market moved on: published an hour after its close.
        for i in range(18, ENTRY_LONG):
            await world.service.on_event(candle_event(bars, i))
        await world.service.on_event(candle_event(bars, ENTRY_LONG, age_s=3600))
        runner = world.service.running[instance["id"]]
        entry_time = int(bars["time"][ENTRY_LONG])
        await wait_until_async(lambda: runner.last_bar_time == entry_time, 5, "the entry candle handled")
        assert world.broker.requests == []
        record = await world.store.worker.run(world.store.get, instance["id"])
        assert record.last_signal is not None and record.last_signal["skipped"] == "stale"
        await world.service.aclose()

    asyncio.run(scenario())


def test_instance_position_opened_before_a_gap_is_managed_after_it(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        bars = world.bars.stored
        for i in range(18, ENTRY_LONG + 1):
            await world.service.on_event(candle_event(bars, i))
        await wait_until_async(lambda: world.broker.open, 5, "the long entry")
        (ticket,) = world.broker.open
        # A gap: the candles up to the reversal come back as a backfill, then the market is live again.
        for i in range(ENTRY_LONG + 1, REVERSE):
            await world.service.on_event(candle_event(bars, i, backfill=True))
        await world.service.on_event(candle_event(bars, REVERSE))
        reverse_time = int(bars["time"][REVERSE])
        await wait_until_async(lambda: len(world.broker.executed) == 3, 5, "the close and the sell")
        assert world.broker.executed[1:] == [
            client_id(instance["id"], reverse_time, f"close-{ticket}"),
            client_id(instance["id"], reverse_time, "sell"),
        ]
        await world.service.aclose()

    asyncio.run(scenario())


def test_freshness_summer_weekend_is_not_counted_the_week_closes_at_21_utc() -> None:
    friday_20_45, sunday_21h = 1_720_817_100, 1_720_990_800  # 2024-07-12 20:45 and 2024-07-14 21:00 UTC
    # The week's last M15 bar closes at 21:00 in summer: 60 s after the reopening it is 60 s old.
    last_of_week = candle(friday_20_45, market_ms=(sunday_21h + 60) * 1000)
    assert RULE.age_s(M15, friday_20_45, (sunday_21h + 60) * 1000) == 60
    assert RULE.skip_reason(last_of_week, M15, None) is None
