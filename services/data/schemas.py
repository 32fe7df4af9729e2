"""Request and response models of the data service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.market.names import SymbolName, TimeframeName


class CollectionStart(BaseModel):
    """`POST /collection/start`: the symbols to collect (default: the configured ones)."""

    model_config = ConfigDict(extra="forbid")

    symbols: list[SymbolName] | None = Field(default=None, min_length=1)


class GapFillCreate(BaseModel):
    """`POST /gap-fill`: which series and range to complete; times are ISO-8601 or epoch seconds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    symbols: list[SymbolName] = Field(min_length=1)
    timeframes: list[TimeframeName] = Field(min_length=1)
    from_: str | StrictInt = Field(alias="from")
    to: str | StrictInt
    include_ticks: bool = Field(default=False, strict=True, description="also fetch the ticks of the range")


class ServerTimeRead(BaseModel):
    """The server-time offset asked for ("auto" or seconds) and the offsets applied, as runs of rows
    (`from`/`to`: first and last row, epoch s UTC)."""

    setting: int | Literal["auto"]
    offsets: list[dict[str, int]]


class ImportRead(BaseModel):
    """What `POST /import` stored: `written` = `inserted` (new) + `replaced` (stored bars overwritten);
    `already_stored` ticks were kept as they were."""

    symbol: str
    timeframe: str | None
    kind: str
    rows: int
    written: int
    inserted: int
    replaced: int
    already_stored: int
    bytes_read: int
    server_time: ServerTimeRead


class SymbolCollectionRead(BaseModel):
    symbol: str
    running: bool
    last_tick_msc: int | None
    lag_ms: int | None
    ticks_per_s: float
    stored_ticks: int
    pending_ticks: int
    error: str | None
    started_ms: int | None
    stalled: bool = Field(
        description="running, the market open and moving on, and no new tick for data.collection.stall_after_s"
    )
    stalled_since_ms: int | None = Field(description="the market's time of the last progress, while stalled")
    reason: str | None = Field(description="why collection is stalled, while it is")


class CollectionRead(BaseModel):
    running: bool
    ticks_per_s: float
    symbols: list[SymbolCollectionRead]
