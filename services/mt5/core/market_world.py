"""The market's identity and clock as the mt5 service tells other services (`GET /clock`): which world it
is (real time, or a replay: DESIGN §11) and what time it is there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from services.mt5.core.simulated.clock import Clock
from services.mt5.core.simulated.holds import HeldClock
from shared.market.calendar import FX_CALENDAR


@dataclass(frozen=True, slots=True)
class MarketWorld:
    """The world of the terminal's market and its clock."""

    world: str
    kind: Literal["real", "replay"]
    clock: Clock
    replay_start_ms: int | None = None
    replay_speed: float | None = None
    holds: HeldClock | None = None  # the replay clock's decision holds (the simulated terminal's replay)

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def read(self) -> dict[str, Any]:
        """The document of `GET /clock`."""
        now_ms = self.now_ms()
        # The platform's one calendar (also completeness, gap fill and candle freshness), so the dashboard
        # can say why nothing moves at a weekend.
        market_open = FX_CALENDAR.is_open(now_ms // 1000)
        return {
            "world": self.world,
            "clock": self.kind,
            "now_ms": now_ms,
            "speed": self.replay_speed or 1.0,
            "replay_start_ms": self.replay_start_ms,
            "holds": None if self.holds is None else self.holds.read(),
            "market_open": market_open,
            "next_open_ms": None if market_open else FX_CALENDAR.next_open(now_ms // 1000) * 1000,
        }
