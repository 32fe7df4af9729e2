"""Market worlds: a replay market is a world of its own (DESIGN §11), so its stored data, its paper account
and its collection state live apart from the real-time ones, and switching clocks never mixes histories.

The mt5 service names the world of its market (`GET /clock`); every service that keeps market state keeps
it under `world_dir(root, world)`: the real-time world where it always was, a replay world below `worlds/`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from shared.market.clock_holds import ClockHoldsRead

REAL_TIME = "real"
_NAME = re.compile(r"^(real|replay-\d{8}T\d{6}Z-seed\d{1,20})$")


def replay_world(start_ms: int, seed: int) -> str:
    """The world of a replay that started at `start_ms` on a market of `seed` (speed does not change it:
    prices are a function of seed, symbol and time)."""
    start = datetime.fromtimestamp(start_ms // 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"replay-{start}-seed{seed}"


def is_world(name: str) -> bool:
    """True for a name `replay_world` or REAL_TIME could have made (it becomes a directory name)."""
    return bool(_NAME.match(name))


def world_dir(root: Path, world: str) -> Path:
    """Where a world's state lives under `root`: `root` itself for real time, `root/worlds/<world>` else."""
    if not is_world(world):
        raise ValueError(f"not a market world name: {world!r}")
    return root if world == REAL_TIME else root / "worlds" / world


class MarketClockRead(BaseModel):
    """The mt5 service's `GET /clock`: the market's world and its time."""

    world: str = Field(description='"real", or the replay world ("replay-<start>-seed<seed>")')
    clock: Literal["real", "replay"]
    now_ms: int = Field(description="the market's now, epoch ms UTC")
    speed: float = Field(gt=0, description="market seconds per wall second")
    replay_start_ms: int | None = None
    holds: ClockHoldsRead | None = Field(
        default=None, description="the replay clock's decision holds; None on real time"
    )
    # Optional, so a reader still understands an mt5 service (or a stand-in) from before they existed.
    market_open: bool | None = Field(
        default=None, description="the FX week's trading hours hold `now_ms` (Sunday to Friday 17:00 NY)"
    )
    next_open_ms: int | None = Field(default=None, description="when the market opens again; None while open")

    @field_validator("world")
    @classmethod
    def _a_world(cls, value: str) -> str:
        if not is_world(value):
            raise ValueError(f"not a market world name: {value!r}")
        return value
