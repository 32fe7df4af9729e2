"""Request and response models of the data service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
    from_: str | int = Field(alias="from")
    to: str | int
    include_ticks: bool = False


class ImportRead(BaseModel):
    """What `POST /import` stored."""

    symbol: str
    timeframe: str | None
    kind: str
    rows: int
    written: int
    bytes_read: int


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


class CollectionRead(BaseModel):
    running: bool
    ticks_per_s: float
    symbols: list[SymbolCollectionRead]
