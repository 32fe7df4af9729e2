"""Lockstep with the replay clock: the running instances' streams are registered as holds, and each
candle's hold is released only once its runners have handled it, orders answered."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from services.strategy.core.lockstep import Lockstep
from tests.strategy.fakes import FakeBroker, FakeClockHolds
from tests.strategy.unit.conftest import World, build_world, candle_event
from tests.strategy.unit.test_runner import ENTRY_LONG
from tests.support.waits import wait_until_async


def lockstep_world(tmp_path: Path, *, replay: bool = True) -> tuple[World, FakeClockHolds]:
    broker = FakeBroker()
    holds = FakeClockHolds(broker, replay=replay)
    return build_world(tmp_path, broker, lockstep=Lockstep(holds, retry_s=60.0)), holds


def test_lockstep_releases_each_candle_after_its_orders_were_answered(tmp_path: Path) -> None:
    world, holds = lockstep_world(tmp_path)

    async def scenario() -> None:
        await world.service.resume()
        instance = await world.instance()
        await world.service.start(instance["id"])
        assert holds.registered == [[], [("EURUSD", "M15")]]
        bars = world.bars.stored
        for i in range(18, ENTRY_LONG + 1):
            await world.service.on_event(candle_event(bars, i))
            await world.service.on_event(candle_event(bars, i, symbol="GBPUSD"))  # not held: not released
        await wait_until_async(lambda: len(holds.released) == ENTRY_LONG - 17, 5, "every candle released")
        times = [int(t) for t in bars["time"][18 : ENTRY_LONG + 1]]
        assert [(s, tf, t) for s, tf, t, _ in holds.released] == [("EURUSD", "M15", t) for t in times]
        # The entry candle's hold ended after its order was answered, the earlier ones before any order.
        assert [executed for *_, executed in holds.released] == [0] * (ENTRY_LONG - 18) + [1]
        await world.service.stop(instance["id"])
        assert holds.registered[-1] == []
        await world.service.aclose()

    asyncio.run(scenario())


def test_lockstep_waits_for_the_held_tick_before_sending_a_candles_orders(tmp_path: Path) -> None:
    """Another symbol's tick can close the candle before the clock holds at the stream's new bar: the
    orders wait for the clock to stand there, and only candles with orders wait."""
    world, holds = lockstep_world(tmp_path)

    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        bars = world.bars.stored
        for i in range(18, ENTRY_LONG + 1):
            await world.service.on_event(candle_event(bars, i))
        await wait_until_async(lambda: len(holds.released) == ENTRY_LONG - 17, 5, "every candle released")
        # One wait, before the entry's order (none executed yet), for the entry candle only.
        assert holds.waited == [("EURUSD", "M15", int(bars["time"][ENTRY_LONG]), 0)]
        assert len(world.broker.executed) == 1
        await world.service.aclose()

    asyncio.run(scenario())


def test_lockstep_does_not_wait_for_a_stream_it_could_not_register(tmp_path: Path) -> None:
    world, holds = lockstep_world(tmp_path)

    async def scenario() -> None:
        instance = await world.instance()
        holds.fail = True  # the registration does not reach the mt5 service: the clock does not hold
        await world.service.start(instance["id"])
        holds.fail = False
        bars = world.bars.stored
        for i in range(18, ENTRY_LONG + 1):
            await world.service.on_event(candle_event(bars, i))
        await wait_until_async(lambda: world.broker.executed, 5, "an order executed")
        await world.service.aclose()

    asyncio.run(scenario())
    assert holds.waited == []


def test_lockstep_a_failed_wait_is_logged_and_the_orders_are_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world, holds = lockstep_world(tmp_path)

    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        holds.fail_wait = True
        bars = world.bars.stored
        with caplog.at_level(logging.WARNING):
            for i in range(18, ENTRY_LONG + 1):
                await world.service.on_event(candle_event(bars, i))
            await wait_until_async(lambda: world.broker.executed, 5, "an order executed")
        await wait_until_async(lambda: len(holds.released) == ENTRY_LONG - 17, 5, "every candle released")
        await world.service.aclose()

    asyncio.run(scenario())
    assert any("cannot wait" in r.getMessage() for r in caplog.records)
    assert holds.waited == []


def test_lockstep_releases_a_skipped_candle_and_one_no_runner_took(tmp_path: Path) -> None:
    world, holds = lockstep_world(tmp_path)

    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        bars = world.bars.stored
        await world.service.on_event(candle_event(bars, 20, age_s=3600))  # stale: recorded as skipped
        await wait_until_async(lambda: holds.released, 5, "the stale candle released")
        holds.fail = True  # the stop's registration does not reach the mt5 service: the stream still holds
        await world.service.stop(instance["id"])
        holds.fail = False
        await world.service.on_event(candle_event(bars, 21))
        await wait_until_async(lambda: len(holds.released) == 2, 5, "the unrouted candle released")
        assert [t for _, _, t, _ in holds.released] == [int(bars["time"][20]), int(bars["time"][21])]
        await world.service.aclose()

    asyncio.run(scenario())


def test_lockstep_on_the_real_time_clock_holds_nothing(tmp_path: Path) -> None:
    world, holds = lockstep_world(tmp_path, replay=False)

    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        bars = world.bars.stored
        for i in range(18, ENTRY_LONG + 1):
            await world.service.on_event(candle_event(bars, i))
        await wait_until_async(lambda: world.broker.executed, 5, "an order executed")
        await world.service.aclose()

    asyncio.run(scenario())
    assert holds.registered == [] and holds.released == []


def test_lockstep_failing_calls_are_logged_and_trading_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world, holds = lockstep_world(tmp_path)

    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        holds.fail = True
        bars = world.bars.stored
        with caplog.at_level(logging.WARNING):
            for i in range(18, ENTRY_LONG + 1):
                await world.service.on_event(candle_event(bars, i))
            await wait_until_async(lambda: world.broker.executed, 5, "an order executed")
            await wait_until_async(
                lambda: any("cannot release" in r.getMessage() for r in caplog.records), 5, "logged"
            )
        await world.service.aclose()  # cannot unregister either: logged, not raised

    asyncio.run(scenario())
    assert holds.released == []
