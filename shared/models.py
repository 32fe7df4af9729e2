"""Data shapes shared across services: service status, ticks, bars and the event envelope."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ServiceState(StrEnum):
    STOPPED = "STOPPED"  # not running, by intent
    STARTING = "STARTING"  # spawned, not yet healthy
    ONLINE = "ONLINE"  # healthy
    OFFLINE = "OFFLINE"  # exited or failing health; a restart is pending
    ERROR = "ERROR"  # cannot start or restart budget spent; needs a manual start


class ServiceStatus(BaseModel):
    """What the supervisor knows about one service."""

    name: str
    state: ServiceState
    port: int
    pid: int | None = None
    url: str
    started_at_ms: int | None = None
    uptime_s: float | None = None
    restarts: int = 0
    last_error: str | None = None
    next_restart_in_s: float | None = None


class TickData(BaseModel):
    """One tick, fields as MT5's Tick tuple."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    time: int
    time_msc: int
    bid: float
    ask: float
    last: float = 0.0
    volume: int = 0
    flags: int = 0
    volume_real: float = 0.0


class OHLCData(BaseModel):
    """One bar, fields as MT5's rates dtype; `time` is the bar open (epoch s, UTC)."""

    model_config = ConfigDict(frozen=True)

    symbol: str
    timeframe: str
    time: int
    open: float
    high: float
    low: float
    close: float
    tick_volume: int = 0
    spread: int = 0
    real_volume: int = 0


class EventEnvelope(BaseModel):
    """Every event on every stream: `seq` increases per source; `type` is a dotted noun."""

    seq: int = Field(ge=0)
    ts: int = Field(description="epoch milliseconds, UTC")
    source: str
    type: str
    data: dict[str, Any] = Field(default_factory=dict)
