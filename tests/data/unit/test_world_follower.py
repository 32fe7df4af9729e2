"""The data service follows the mt5 service's market world, and collects nothing into a world the mt5 service
has not confirmed (after a start while the mt5 service was down, the remembered world may be the wrong one)."""

from __future__ import annotations

import asyncio

from services.data.core.worlds import WorldFollower
from shared.errors import ServiceUnavailableError
from shared.market.clock import MarketClock
from shared.market.world import REAL_TIME, MarketClockRead

REPLAY = "replay-20240108T000100Z-seed0"


class FakeMt5:
    """The mt5 service's `GET /clock`: down (None) or in a world."""

    def __init__(self) -> None:
        self.world: str | None = None

    async def clock(self) -> MarketClockRead:
        if self.world is None:
            raise ServiceUnavailableError("mt5 is down")
        return MarketClockRead(world=self.world, clock="real", now_ms=1, speed=1.0)


def follow(mt5: FakeMt5, current: str) -> tuple[WorldFollower, list[str]]:
    calls: list[str] = []

    async def switch(name: str) -> None:
        calls.append(f"switch {name}")

    async def confirm() -> None:
        calls.append("confirm")

    follower = WorldFollower(
        mt5,  # type: ignore[arg-type]
        MarketClock(),
        lambda: current,
        switch,
        5.0,
        confirm=confirm,
    )
    return follower, calls


def test_world_follower_confirms_the_remembered_world_once_the_mt5_service_answers() -> None:
    async def scenario() -> None:
        mt5 = FakeMt5()
        follower, calls = follow(mt5, REAL_TIME)
        await follower.check()
        assert calls == []  # the mt5 service is down: nothing confirmed, nothing collected
        mt5.world = REAL_TIME
        await follower.check()
        await follower.check()
        assert calls == ["confirm"]

    asyncio.run(scenario())


def test_world_follower_switches_instead_of_confirming_when_the_world_changed() -> None:
    async def scenario() -> None:
        mt5 = FakeMt5()
        follower, calls = follow(mt5, REPLAY)
        mt5.world = REAL_TIME
        await follower.check()
        assert calls == [f"switch {REAL_TIME}"]

    asyncio.run(scenario())
