"""StrategyRunner on constructed bars: orders, client ids, re-delivery, refusals, restarts."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np

from services.strategy.core.planning import client_id
from services.strategy.core.runner import StrategyRunner
from services.strategy.core.store import OrderStatus
from shared.trading.registry import build_strategy
from tests.strategy.fakes import FakeBroker
from tests.strategy.unit.conftest import Clock, World, build_world

ENTRY_LONG, REVERSE = 21, 31  # bars where SMA(2) crosses SMA(3) on conftest.CLOSES


async def started(world: World) -> tuple[str, StrategyRunner]:
    instance = await world.instance()
    await world.service.start(instance["id"])
    return instance["id"], world.service.running[instance["id"]]


async def feed(
    runner: StrategyRunner, world: World, first: int, last: int, bars: np.ndarray | None = None
) -> None:
    source = world.bars.stored if bars is None else bars
    for i in range(first, last + 1):
        await runner.on_candle(source[i : i + 1])


def test_runner_entry_signal_sends_buy_with_bar_client_id_and_magic(world: World) -> None:
    async def scenario() -> None:
        instance_id, runner = await started(world)
        await feed(runner, world, 18, ENTRY_LONG)
        bar_time = int(world.bars.stored["time"][ENTRY_LONG])
        assert world.broker.executed == [client_id(instance_id, bar_time, "buy")]
        request = world.broker.requests[0]
        assert request["magic"] == runner.instance.magic
        assert (request["type"], request["volume"], request["symbol"]) == ("BUY", 0.1, "EURUSD")
        signals = world.events.of("signal")
        assert signals[-1] | {"refused": None} == {
            "instance": instance_id,
            "symbol": "EURUSD",
            "timeframe": "M15",
            "bar_time": bar_time,
            "direction": "long",
            "action": "buy",
            "reason": "entry",
            "refused": None,
        }
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_redelivered_candle_sends_nothing_twice(world: World) -> None:
    async def scenario() -> None:
        _, runner = await started(world)
        await feed(runner, world, 18, ENTRY_LONG)
        await feed(runner, world, ENTRY_LONG, ENTRY_LONG)  # the same candle again
        await feed(runner, world, 20, 20)  # and an older one
        assert len(world.broker.executed) == 1
        assert len(world.broker.open) == 1
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_reverse_signal_closes_then_sells(world: World) -> None:
    async def scenario() -> None:
        instance_id, runner = await started(world)
        await feed(runner, world, 18, ENTRY_LONG)
        (buy_ticket,) = world.broker.open
        await feed(runner, world, ENTRY_LONG + 1, 39)
        t_long, t_short = (int(world.bars.stored["time"][i]) for i in (ENTRY_LONG, REVERSE))
        assert world.broker.executed == [
            client_id(instance_id, t_long, "buy"),
            client_id(instance_id, t_short, f"close-{buy_ticket}"),
            client_id(instance_id, t_short, "sell"),
        ]
        (position,) = world.broker.open.values()
        assert position.direction == -1
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_window_is_fetched_once_then_extended(world: World) -> None:
    async def scenario() -> None:
        _, runner = await started(world)
        await feed(runner, world, 18, 39)
        assert world.bars.fetches == 1
        assert len(runner._window) <= runner.planner.window_size
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_decisions_equal_full_history_signals(world: World) -> None:
    async def scenario() -> None:
        _, runner = await started(world)
        await feed(runner, world, 18, 39)
        bars = world.bars.stored
        full = build_strategy("sma_crossover", {"fast": 2, "slow": 3}).signals(
            {n: bars[n] for n in bars.dtype.names or ()}
        )
        entries = np.nonzero(full.entry_long | full.entry_short)[0]
        opened = sorted({int(r["comment"].split(":")[0]) for r in world.broker.requests if "type" in r})
        assert opened == [int(bars["time"][i]) for i in entries if i >= 18]
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_kill_switch_refusal_emits_refused_signal_and_keeps_running(world: World) -> None:
    async def scenario() -> None:
        instance_id, runner = await started(world)
        world.broker.halted = True
        await feed(runner, world, 18, ENTRY_LONG)
        assert world.broker.executed == []
        assert world.events.of("signal")[-1]["refused"] == "trading_halted"
        assert world.events.of("alert")[-1]["code"] == "trading_halted"
        (order,) = world.store.orders(instance_id)
        assert order.status == OrderStatus.REFUSED
        assert world.store.get(instance_id).state.value == "running"
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_lost_answer_resent_on_restart_trades_once(tmp_path: Path) -> None:
    broker = FakeBroker()

    async def first_life() -> tuple[str, str]:
        world = build_world(tmp_path, broker)
        instance_id, runner = await started(world)
        broker.lose_answers = True  # mt5 trades, the answer is lost: the outcome is unknown here
        await feed(runner, world, 18, ENTRY_LONG)
        (order,) = world.store.orders(instance_id)
        assert order.status == OrderStatus.FAILED
        await world.service.aclose()
        return instance_id, order.client_id

    instance_id, cid = asyncio.run(first_life())
    broker.lose_answers = False

    async def second_life() -> None:
        world = build_world(tmp_path, broker)
        await world.service.resume()
        (order,) = world.store.orders(instance_id)
        assert order.status == OrderStatus.DONE
        runner = world.service.running[instance_id]
        await feed(runner, world, ENTRY_LONG, ENTRY_LONG)  # the same candle again after the restart
        assert broker.executed == [cid]
        assert len(broker.open) == 1
        await world.service.aclose()

    asyncio.run(second_life())


def test_runner_unknown_outcome_older_than_window_expires(tmp_path: Path) -> None:
    broker = FakeBroker()
    clock = Clock()

    async def scenario() -> None:
        world = build_world(tmp_path, broker, clock)
        instance_id, runner = await started(world)
        broker.lose_answers = True
        await feed(runner, world, 18, ENTRY_LONG)
        await world.service.aclose()
        clock.ms += 3_600_000
        world = build_world(tmp_path, broker, clock)
        await world.service.resume()
        (order,) = world.store.orders(instance_id)
        assert order.status == OrderStatus.EXPIRED
        assert len(broker.executed) == 1
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_unknown_outcome_stale_by_the_market_clock_expires_within_the_wall_window(
    tmp_path: Path,
) -> None:
    """A replay at 1200x runs twenty market hours in the minute of wall time a restart takes: the order's
    candle is then far too old to act on, though the wall-time window would still send it."""
    broker = FakeBroker()

    async def scenario() -> None:
        world = build_world(tmp_path, broker)
        instance_id, runner = await started(world)
        broker.lose_answers = True
        await feed(runner, world, 18, ENTRY_LONG)
        await world.service.aclose()
        (lost,) = world.store.orders(instance_id)
        close_s = int(world.bars.stored["time"][ENTRY_LONG]) + 900
        broker.lose_answers = False
        broker.market_ms = (close_s + 20 * 3600) * 1000  # a Wednesday bar: twenty hours of open market
        world = build_world(tmp_path, broker)
        await world.service.resume()
        (order,) = world.store.orders(instance_id)

        assert order.client_id == lost.client_id
        assert order.status == OrderStatus.EXPIRED
        assert order.result is not None and order.result["details"]["by"] == "market"
        assert order.result["details"]["age_s"] > order.result["details"]["max_age_s"]
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_unknown_outcome_fresh_by_the_market_clock_is_sent_again(tmp_path: Path) -> None:
    broker = FakeBroker()

    async def scenario() -> None:
        world = build_world(tmp_path, broker)
        instance_id, runner = await started(world)
        broker.lose_answers = True
        await feed(runner, world, 18, ENTRY_LONG)
        await world.service.aclose()
        broker.lose_answers = False
        broker.market_ms = (int(world.bars.stored["time"][ENTRY_LONG]) + 900 + 5) * 1000
        world = build_world(tmp_path, broker)
        await world.service.resume()
        (order,) = world.store.orders(instance_id)

        assert order.status == OrderStatus.DONE
        await world.service.aclose()

    asyncio.run(scenario())


def test_runner_warming_up_sends_nothing(world: World) -> None:
    async def scenario() -> None:
        instance_id, runner = await started(world)
        full = world.bars.stored
        world.bars.stored = full[ENTRY_LONG - 1 :]  # history starts just before the cross
        await feed(runner, world, ENTRY_LONG - 1, ENTRY_LONG, bars=full)
        assert world.broker.executed == []
        assert world.store.get(instance_id).last_signal["warming_up"] is True
        await world.service.aclose()

    asyncio.run(scenario())
