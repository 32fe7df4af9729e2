"""The market's clock (`GET /clock`) and, on a replay, its decision holds: strategies register the streams
they trade and release each new bar once they have acted on its candle (core/simulated/holds.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.mt5.api.deps import WorldDep
from services.mt5.core.market_world import MarketWorld
from services.mt5.core.simulated.holds import HeldClock
from shared.errors import ConflictError
from shared.market.clock_holds import (
    ClockHoldRelease,
    ClockHoldReleased,
    ClockHoldsRead,
    ClockHoldsUpdate,
    ClockHoldWait,
    ClockHoldWaited,
)
from shared.market.timeframes import get_timeframe
from shared.market.world import MarketClockRead

router = APIRouter(tags=["clock"])


@router.get("/clock", response_model=MarketClockRead)
async def market_clock(world: WorldDep) -> dict[str, Any]:
    """The market's world (real time or a replay, each with data and account of its own), its now and,
    on a replay, the pending holds and how many timed out."""
    return world.read()


@router.put("/clock/holds", response_model=ClockHoldsRead)
async def register_holds(body: ClockHoldsUpdate, world: WorldDep) -> dict[str, Any]:
    """Replace the holder's streams (empty: none) and renew its lease; 409 unless the clock is a replay."""
    holds = _holds(world)
    holds.register(body.holder, [(s.symbol, get_timeframe(s.timeframe)) for s in body.streams])
    return holds.read()


@router.post("/clock/holds/release", response_model=ClockHoldReleased)
async def release_hold(body: ClockHoldRelease, world: WorldDep) -> dict[str, Any]:
    """The candle of `bar_time` was handled: the hold at the next bar ends. A hold that is not pending (or
    the real-time clock, which never holds) is left as it is: releasing twice is harmless."""
    if world.holds is None:
        return {"released": False}
    released = world.holds.release(body.symbol, get_timeframe(body.timeframe), body.bar_time)
    return {"released": released}


@router.post("/clock/holds/wait", response_model=ClockHoldWaited)
async def wait_for_hold(body: ClockHoldWait, world: WorldDep) -> dict[str, Any]:
    """Answer once the clock stands at the hold after the candle of `bar_time`, so the holder's orders fill
    at its tick: at once when the clock is there or past it or no such hold is pending (the real-time
    clock never holds), else after the wall time the replay needs to get there, at most
    `replay_hold_timeout_s`."""
    if world.holds is None:
        return {"held": False, "now_ms": world.now_ms()}
    held, now_ms = await world.holds.wait(body.symbol, get_timeframe(body.timeframe), body.bar_time)
    return {"held": held, "now_ms": now_ms}


def _holds(world: MarketWorld) -> HeldClock:
    if world.holds is None:
        raise ConflictError(
            f"the market's clock is {world.kind}: only the simulated terminal's replay clock holds",
            code="clock_not_replay",
            details={"clock": world.kind},
        )
    return world.holds
