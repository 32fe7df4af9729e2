"""The data service's market worlds (DESIGN §11): each world's stores, collection intent and collector live
under its own directory, and the service follows the world the mt5 service says its market is in.

The world is asked of the mt5 service (`GET /clock`) at start and every `market.clock_check_interval_s`,
so a restarted mt5 service on another clock is noticed within one period. On a change, collection of the
old world stops (its intent kept: switching back resumes it) and the new world's resumes; a world seen for
the first time inherits the running intent of the one it replaces, so "collecting" stays true and real.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from services.data.core.collection import CollectionIntent, Collector
from services.data.core.stores import DataStores
from shared.contracts.mt5 import Mt5Client
from shared.errors import PlatformError
from shared.market.clock import MarketClock
from shared.market.world import REAL_TIME, world_dir

log = logging.getLogger(__name__)

INTENT_FILE = "collection.json"
WORLD_FILE = "world.json"


class _LastWorld(BaseModel):
    world: str = REAL_TIME


@dataclass(slots=True)
class DataWorld:
    """One world's stores and collector."""

    name: str
    root: Path
    stores: DataStores
    collector: Collector


def last_world(root: Path) -> str:
    """The world the service was last in (real time when it never knew another)."""
    try:
        name = _LastWorld.model_validate_json((root / WORLD_FILE).read_bytes()).world
        world_dir(root, name)  # a name that cannot be a directory is not trusted
        return name
    except (OSError, ValidationError, ValueError):
        return REAL_TIME


def remember_world(root: Path, name: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / (WORLD_FILE + ".tmp")
    tmp.write_text(_LastWorld(world=name).model_dump_json())
    os.replace(tmp, root / WORLD_FILE)


def world_intent(root: Path, name: str, previous: Path | None) -> CollectionIntent:
    """The world's collection intent; a world entered for the first time starts with `previous`'s."""
    intent = CollectionIntent(world_dir(root, name) / INTENT_FILE)
    if previous is not None and not intent.path.exists():
        was = CollectionIntent(previous).load()
        intent.save(running=was.running, symbols=was.symbols)
    return intent


class WorldFollower:
    """Re-reads the market's clock periodically and switches worlds when the mt5 service's has changed."""

    def __init__(
        self,
        client: Mt5Client,
        clock: MarketClock,
        current: Callable[[], str],
        switch: Callable[[str], Awaitable[None]],
        interval_s: float,
        *,
        confirm: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._current = current
        self._switch = switch
        self._interval_s = interval_s
        self._confirm = confirm  # called once when the first reading finds the world unchanged
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> None:
        """One read: update the clock, and switch when the world differs (or confirm it when it does not)."""
        reading = await self._clock.refresh(self._client)
        if reading is None:
            return
        if reading.world != self._current():
            log.info("the market's world is now %s (was %s)", reading.world, self._current())
            self._confirm = None  # entering the new world resumes its collection
            await self._switch(reading.world)
        elif self._confirm is not None:
            confirm, self._confirm = self._confirm, None
            await confirm()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="market-world")

    async def _run(self) -> None:
        while True:
            # Unconfirmed (the mt5 service was not up at start): ask again soon, collection waits on it.
            await asyncio.sleep(self._interval_s if self._confirm is None else min(self._interval_s, 0.5))
            try:
                await self.check()
            except (OSError, PlatformError) as exc:  # a failed switch is retried on the next period
                log.warning("switching market worlds failed: %s", exc)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
