"""Real stores on tmp_path, the in-memory broker and bars, and a hand-moved clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.strategy.core.config import RiskConfig
from services.strategy.core.instances import InstanceService
from services.strategy.core.lockstep import Lockstep
from services.strategy.core.store import InstanceStore
from services.strategy.settings import StrategySection
from shared.db import sqlite_engine
from shared.event_payloads import Payload
from shared.trading.registry import StrategyRegistry
from shared.trading.sizing import SizingConfig, SizingMode
from tests.strategy.fakes import FakeBars, FakeBroker, make_bars

MAGIC_BASE = 20_240_000
SECTION = StrategySection(magic_base=MAGIC_BASE, magic_range=1000, history_bars=20, warmup_factor=2)
# A falling then rising then falling market: SMA(2) crosses SMA(3) up, then down.
CLOSES = [1.1000 - 0.0002 * k for k in range(20)] + [1.0962 + 0.0004 * k for k in range(10)]
CLOSES += [1.0998 - 0.0005 * k for k in range(10)]


class Clock:
    def __init__(self, ms: int = 1_700_000_000_000) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


@dataclass
class Events:
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, event_type: str, data: Payload) -> None:
        self.published.append((event_type, data.wire()))  # what goes on the wire

    def of(self, event_type: str) -> list[dict[str, Any]]:
        return [d for t, d in self.published if t == event_type]


@dataclass
class World:
    store: InstanceStore
    service: InstanceService
    broker: FakeBroker
    bars: FakeBars
    events: Events
    clock: Clock

    async def instance(self, **overrides: Any) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "strategy": "sma_crossover",
            "params": {"fast": 2, "slow": 3},
            "symbol": "EURUSD",
            "timeframe": "M15",
            "sizing": SizingConfig(mode=SizingMode.FIXED, value=0.1),
            "risk": RiskConfig(),
        }
        return await self.service.create(**{**spec, **overrides})


def build_world(
    path: Path,
    broker: FakeBroker | None = None,
    clock: Clock | None = None,
    lockstep: Lockstep | None = None,
) -> World:
    clock = clock or Clock()
    store = InstanceStore(sqlite_engine(path / "strategy.db"), magic_base=MAGIC_BASE, now_ms=clock)
    broker = broker or FakeBroker()
    bars = FakeBars(make_bars(CLOSES))
    events = Events()
    service = InstanceService(
        store,
        StrategyRegistry.with_builtins(),
        broker=broker,
        bars=bars,
        publish=events,
        symbols=["EURUSD", "GBPUSD"],
        section=SECTION,
        now_ms=clock,
        lockstep=lockstep,
    )
    return World(store, service, broker, bars, events, clock)


def candle_event(
    bars: np.ndarray, i: int, *, symbol: str = "EURUSD", backfill: bool = False, age_s: float = 1.0
) -> dict[str, Any]:
    """The data service's `candle.closed` for M15 bar `i`, published `age_s` after its close."""
    bar = {name: bars[name][i].item() for name in bars.dtype.names or ()}
    market_ms = int((int(bars["time"][i]) + 900 + age_s) * 1000)
    data = {"symbol": symbol, "timeframe": "M15", "bar": bar, "market_ms": market_ms, "backfill": backfill}
    return {"type": "candle.closed", "data": data}


@pytest.fixture
def world(tmp_path: Path) -> World:
    return build_world(tmp_path)
