"""InstanceService: validation, the lifecycle table, reconciliation, the daily loss limit, resume, routing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.strategy.core.config import RiskConfig
from services.strategy.core.store import InstanceState
from shared.errors import ConflictError, InvalidInputError, NotFoundError, ServiceUnavailableError
from shared.trading.sizing import SizingConfig, SizingMode
from tests.strategy.unit.conftest import MAGIC_BASE, World, build_world, candle_event
from tests.strategy.unit.test_runner import ENTRY_LONG, feed
from tests.support.waits import wait_until_async


@pytest.mark.parametrize(
    ("overrides", "error", "code"),
    [
        ({"strategy": "nope"}, NotFoundError, "unknown_strategy"),
        ({"params": {"fast": 5, "slow": 3}}, InvalidInputError, "invalid_params"),
        ({"params": {"fats": 5}}, InvalidInputError, "invalid_params"),
        ({"symbol": "BTCUSD"}, InvalidInputError, "unknown_symbol"),
        ({"timeframe": "M7"}, InvalidInputError, "unknown_timeframe"),
        ({"sizing": SizingConfig(mode=SizingMode.ALL_IN, value=1)}, InvalidInputError, "invalid_sizing"),
    ],
)
def test_instances_create_bad_input_names_problem(
    world: World, overrides: dict, error: type[Exception], code: str
) -> None:
    with pytest.raises(error) as caught:
        asyncio.run(world.instance(**overrides))
    assert caught.value.code == code
    assert world.store.instances() == []


def test_instances_invalid_params_error_names_field(world: World) -> None:
    with pytest.raises(InvalidInputError) as caught:
        asyncio.run(world.instance(params={"fast": 5, "slow": 3}))
    assert caught.value.details["errors"][0]["field"] == "fast"


def test_instances_running_instance_refuses_start_edit_delete(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        with pytest.raises(ConflictError) as started_twice:
            await world.service.start(instance["id"])
        assert started_twice.value.code == "already_running"
        with pytest.raises(ConflictError) as edited:
            await world.service.update(instance["id"], params={"fast": 3, "slow": 9})
        assert edited.value.code == "instance_running"
        with pytest.raises(ConflictError) as deleted:
            await world.service.delete(instance["id"])
        assert deleted.value.code == "instance_running"
        stopped = await world.service.stop(instance["id"])
        assert stopped["state"] == "stopped"
        updated = await world.service.update(instance["id"], params={"fast": 3, "slow": 9})
        assert updated["params"] == {"fast": 3, "slow": 9}
        await world.service.delete(instance["id"])
        with pytest.raises(NotFoundError):
            await world.service.detail(instance["id"])

    asyncio.run(scenario())


def test_instances_transitions_published_with_from_and_to(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        await world.service.stop(instance["id"])
        moves = [(e["from"], e["to"]) for e in world.events.of("strategy.status")]
        assert moves == [("stopped", "running"), ("running", "stopped")]

    asyncio.run(scenario())


def test_instances_magic_numbers_unique_and_never_reused(world: World) -> None:
    async def scenario() -> None:
        first = await world.instance()
        await world.service.delete(first["id"])
        second = await world.instance()
        assert (first["magic"], second["magic"]) == (MAGIC_BASE, MAGIC_BASE + 1)

    asyncio.run(scenario())


def test_instances_start_without_mt5_changes_nothing(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        world.broker.unreachable = True
        with pytest.raises(ServiceUnavailableError):
            await world.service.start(instance["id"])
        assert world.store.get(instance["id"]).state == InstanceState.STOPPED

    asyncio.run(scenario())


def test_instances_reconcile_adopts_own_positions_and_reports_orphans(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        own = world.broker.add_position(magic=instance["magic"])
        orphan = world.broker.add_position(magic=MAGIC_BASE + 500)
        world.broker.add_position(magic=7)  # someone else's: not the platform's range
        await world.service.start(instance["id"])
        assert world.events.of("strategy.status")[-1]["adopted"] == [own.ticket]
        report = await world.service.reconciler.reconcile()
        assert report["adopted"] == {instance["id"]: [own.ticket]}
        assert [p["ticket"] for p in report["orphans"]] == [orphan.ticket]
        assert world.events.of("alert")[-1]["code"] == "orphan_positions"
        detail = await world.service.detail(instance["id"])
        assert [p["ticket"] for p in detail["positions"]] == [own.ticket]
        await world.service.aclose()

    asyncio.run(scenario())


def test_instances_adopted_long_is_not_duplicated_by_entry_signal(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        world.broker.add_position(magic=instance["magic"], buy=True)
        await world.service.start(instance["id"])
        await feed(world.service.running[instance["id"]], world, 18, ENTRY_LONG)
        assert world.broker.executed == []
        assert world.events.of("signal")[-1]["reason"] == "already_long"
        await world.service.aclose()

    asyncio.run(scenario())


def test_instances_daily_loss_limit_trips_closes_and_stops(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance(risk=RiskConfig(daily_loss_limit=50))
        await world.service.start(instance["id"])
        runner = world.service.running[instance["id"]]
        await feed(runner, world, 18, ENTRY_LONG)
        assert len(world.broker.open) == 1
        world.broker.mark(-60.0)
        await feed(runner, world, ENTRY_LONG + 1, ENTRY_LONG + 1)
        assert world.broker.open == {}
        record = world.store.get(instance["id"])
        assert record.state == InstanceState.STOPPED
        assert record.reason.startswith("daily_loss_limit")
        assert record.daily_pnl == -60.0
        last = world.events.of("strategy.status")[-1]
        assert (last["from"], last["to"]) == ("running", "stopped")
        assert "daily_loss_limit" in last["reason"]
        assert instance["id"] not in world.service.running

    asyncio.run(scenario())


def test_instances_running_ones_resume_after_restart(tmp_path: Path) -> None:
    async def first_life() -> str:
        world = build_world(tmp_path)
        running = await world.instance()
        await world.instance()  # never started: must stay stopped
        await world.service.start(running["id"])
        await world.service.aclose()  # the service stops; the instance stays `running`
        return running["id"]

    running_id = asyncio.run(first_life())

    async def second_life() -> None:
        world = build_world(tmp_path)
        await world.service.resume()
        assert set(world.service.running) == {running_id}
        (status,) = world.events.of("strategy.status")
        assert (status["instance"], status["reason"]) == (running_id, "resumed after restart")
        await world.service.aclose()

    asyncio.run(second_life())


def test_instances_candle_event_routed_to_matching_runner(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        bars = world.bars.stored
        for i in range(18, ENTRY_LONG + 1):
            await world.service.on_event(candle_event(bars, i))
            await world.service.on_event(candle_event(bars, i, symbol="GBPUSD"))
        await wait_until_async(lambda: world.broker.executed, 5, "an order executed")
        assert len(world.broker.executed) == 1
        await world.service.aclose()

    asyncio.run(scenario())


def test_instances_daily_pnl_is_kept_without_a_loss_limit(world: World) -> None:
    """The dashboard's "Daily P&L" stayed blank whenever no daily loss limit was set."""

    async def scenario() -> None:
        instance = await world.instance()
        await world.service.start(instance["id"])
        runner = world.service.running[instance["id"]]
        await feed(runner, world, 18, ENTRY_LONG)
        world.broker.mark(-12.5)
        await feed(runner, world, ENTRY_LONG + 1, ENTRY_LONG + 1)
        # Read when asked for (the trading path reads it only under a loss limit).
        assert (await world.service.detail(instance["id"]))["daily"]["pnl"] == -12.5
        (listed,) = (await world.service.overview())["instances"]
        assert listed["daily"]["pnl"] == -12.5
        await world.service.aclose()

    asyncio.run(scenario())
