"""The replay clock's decision holds as the mt5 service offers them (`PUT /clock/holds`,
`POST /clock/holds/release`, `POST /clock/holds/wait`, `holds` in `GET /clock`) and the strategy service uses them: the market waits
at the first tick of each new bar of a registered (symbol, timeframe) until that bar's candle is handled."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.market.names import SymbolName, TimeframeName
from shared.utils import MAX_TIME_MS


class ClockStream(BaseModel):
    """One (symbol, timeframe) whose new bars hold the replay clock."""

    symbol: SymbolName
    timeframe: TimeframeName


class ClockHoldsUpdate(BaseModel):
    """`PUT /clock/holds`: the holder's streams, replacing its previous ones (empty: none); renews its lease."""

    holder: str = Field(min_length=1, max_length=100, description="who holds, e.g. the service's name")
    streams: list[ClockStream] = Field(max_length=1000)


class ClockHoldRelease(BaseModel):
    """`POST /clock/holds/release`: the candle opening at `bar_time` was handled by the holder."""

    symbol: SymbolName
    timeframe: TimeframeName
    bar_time: int = Field(
        strict=True, ge=0, le=MAX_TIME_MS // 1000, description="the closed candle's open time, epoch s"
    )


class ClockHoldWait(ClockHoldRelease):
    """`POST /clock/holds/wait`: the holder has orders for the candle opening at `bar_time` and waits until
    the clock stands at the hold after it (the tick those orders must fill at)."""


class ClockHoldWaited(BaseModel):
    """The answer to a wait: `held` when the clock stands at that hold now (False: past it, no such hold
    pending, the real-time clock, or the hold timeout passed first)."""

    held: bool
    now_ms: int = Field(description="the market's time, epoch ms")


class ClockHoldRead(BaseModel):
    """A stream's next hold: the first tick (`at_ms`) at or after its next bar boundary."""

    symbol: str
    timeframe: str
    boundary: int = Field(description="the bar boundary, epoch s")
    at_ms: int = Field(description="the tick the clock stops at, epoch ms")
    holding: bool = Field(description="the clock stands at this hold now")


class ClockHolderRead(BaseModel):
    holder: str
    streams: list[ClockStream]
    lease_left_s: float


class ClockHoldsRead(BaseModel):
    """The replay clock's holds: pending (earliest first), holders, and how many holds timed out."""

    pending: list[ClockHoldRead]
    holders: list[ClockHolderRead]
    timed_out: int
    held_ms: int = Field(
        default=0,
        description="market ms this replay has stood still for strategies in this platform run, "
        "the hold in progress included: how far its time is behind the replay's speed",
    )


class ClockHoldReleased(BaseModel):
    """The answer to a release: False when that hold was not pending (nothing changed)."""

    released: bool
