"""The per-instance signal log: every decision (taken, refused, ignored) and every candle not acted on
(warming up, skipped as backfill or stale), with why, newest first and bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from services.strategy.core.config import RiskConfig
from services.strategy.core.instances import InstanceService
from services.strategy.core.store import InstanceStore
from shared.db import sqlite_engine
from shared.trading.registry import StrategyRegistry
from shared.trading.sizing import SizingConfig, SizingMode
from tests.strategy.fakes import FakeBroker
from tests.strategy.unit.conftest import MAGIC_BASE, SECTION, Clock, World, candle_event
from tests.strategy.unit.test_runner import ENTRY_LONG, feed, started


def test_signal_log_keeps_refused_entry_with_its_reason(world: World) -> None:
    async def scenario() -> None:
        instance_id, runner = await started(world)
        world.broker.halted = True
        await feed(runner, world, 18, ENTRY_LONG)
        await world.service.aclose()
        bar_time = int(world.bars.stored["time"][ENTRY_LONG])

        newest = (await world.service.signals(instance_id))[0]

        assert newest | {"time_ms": 0} == {
            "time_ms": 0,
            "bar_time": bar_time,
            "kind": "signal",
            "direction": "long",
            "action": "buy",
            "reason": "entry",
            "refused": "trading_halted",
            "details": {},
            "count": 1,
            "first_bar_time": bar_time,
        }

    asyncio.run(scenario())


def test_signal_log_keeps_skipped_candles_and_warm_up_with_why(world: World) -> None:
    async def scenario() -> None:
        instance_id, runner = await started(world)
        bars = world.bars.stored
        world.bars.stored = bars[ENTRY_LONG - 1 :]  # history starts just before the cross: warming up
        await feed(runner, world, ENTRY_LONG - 1, ENTRY_LONG - 1, bars=bars)
        world.bars.stored = bars
        await world.service.on_event(candle_event(bars, ENTRY_LONG, backfill=True))
        await world.service.on_event(candle_event(bars, ENTRY_LONG + 1, age_s=3600))
        await world.service.aclose()

        log = await world.service.signals(instance_id)

        assert [(e["kind"], e["reason"]) for e in log] == [
            ("skipped", "stale"),
            ("skipped", "backfill"),
            ("warming_up", "warming up"),
        ]
        assert log[0]["details"]["max_age_s"] > 0
        assert log[2]["details"] == {"bars": 1}
        assert world.broker.executed == []

    asyncio.run(scenario())


def test_signal_log_is_bounded_per_instance_newest_first(tmp_path: Path) -> None:
    clock = Clock()
    store = InstanceStore(
        sqlite_engine(tmp_path / "strategy.db"), magic_base=MAGIC_BASE, now_ms=clock, signals_kept=3
    )
    service = InstanceService(
        store,
        StrategyRegistry.with_builtins(),
        broker=FakeBroker(),
        bars=None,  # type: ignore[arg-type]
        publish=lambda *_: None,
        symbols=["EURUSD"],
        section=SECTION,
        now_ms=clock,
    )
    spec: dict[str, Any] = {
        "strategy": "sma_crossover",
        "params": {"fast": 2, "slow": 3},
        "symbol": "EURUSD",
        "timeframe": "M15",
    }

    sizing = SizingConfig(mode=SizingMode.FIXED, value=0.1)

    async def scenario() -> None:
        first = await service.create(**spec, sizing=sizing, risk=RiskConfig())
        other = await service.create(**spec, sizing=sizing, risk=RiskConfig())
        for bar_time in range(10):  # alternating reasons: no run to count as one
            reason = "backfill" if bar_time % 2 else "stale"
            store.record_bar(first["id"], bar_time, {"bar_time": bar_time, "skipped": reason})
        store.record_bar(other["id"], 5, {"bar_time": 5, "skipped": "backfill"})

        assert [e["bar_time"] for e in await service.signals(first["id"])] == [9, 8, 7]
        assert [e["bar_time"] for e in await service.signals(first["id"], limit=2)] == [9, 8]
        assert [e["bar_time"] for e in await service.signals(other["id"])] == [5]
        store.close()

    asyncio.run(scenario())


def test_signal_log_counts_a_run_of_candles_skipped_for_one_reason_as_one_entry(world: World) -> None:
    async def scenario() -> None:
        instance = await world.instance()
        for bar_time in (60, 120, 180):
            world.store.record_bar(instance["id"], bar_time, {"bar_time": bar_time, "skipped": "backfill"})
        world.store.record_bar(instance["id"], 240, {"bar_time": 240, "skipped": "stale", "age_s": 9.0})
        world.store.record_bar(instance["id"], 300, {"bar_time": 300, "skipped": "backfill"})

        log = await world.service.signals(instance["id"])

        assert [(e["reason"], e["count"], e["first_bar_time"], e["bar_time"]) for e in log] == [
            ("backfill", 1, 300, 300),
            ("stale", 1, 240, 240),
            ("backfill", 3, 60, 180),
        ]

    asyncio.run(scenario())
