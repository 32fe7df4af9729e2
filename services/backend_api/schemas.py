"""backend-api's request and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from shared.models import ServiceStatus


class LoopLag(BaseModel):
    """How late backend-api's event loop ran over the last seconds (supervision and gateway share it)."""

    window_s: float
    p99: float
    max: float


class PlatformStatus(BaseModel):
    status: Literal["ok", "degraded"]
    mode: Literal["spawn", "external"]
    services: list[ServiceStatus]
    hub: dict[str, object]
    loop_lag_ms: LoopLag


class LogTail(BaseModel):
    service: str
    source: Literal["service", "console"]
    lines: list[str]


class EventType(BaseModel):
    """One entry of the event catalog (`shared/event_catalog.py`)."""

    type: str
    publishers: str
    description: str


class DeliveryRead(BaseModel):
    """One alert message's fate on one channel (`reason` says why it failed)."""

    id: int
    time_ms: int
    rule_id: int | None
    rule_name: str
    event_type: str
    channel: str
    status: Literal["sent", "failed"]
    reason: str
    attempts: int
    title: str


class AlertChannels(BaseModel):
    """The channels whose settings and secrets are present (rules may only use these)."""

    configured: list[str]
