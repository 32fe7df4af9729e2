"""backend-api's request and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from shared.models import ServiceStatus


class PlatformStatus(BaseModel):
    status: Literal["ok", "degraded"]
    mode: Literal["spawn", "external"]
    services: list[ServiceStatus]
    hub: dict[str, object]


class LogTail(BaseModel):
    service: str
    source: Literal["service", "console"]
    lines: list[str]
