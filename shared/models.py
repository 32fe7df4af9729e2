"""Service status as the supervisor reports it (event payloads and the envelope: shared/event_payloads.py)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


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
