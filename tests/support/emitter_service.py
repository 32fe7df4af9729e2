"""A test stand-in for a child service that publishes events on request (runs in the `ai` slot).

Built with the real app factory, so it has the real /health, /ws/events, internal token and error shape.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from pydantic import BaseModel, Field

from shared.config import PlatformSettings
from shared.runner import run_service
from shared.service_app import create_service_app


class EmitRequest(BaseModel):
    count: int = Field(ge=1, le=100_000)
    type: str = "alert"
    symbol: str | None = None
    payload_bytes: int = Field(default=0, ge=0, le=1_000_000)
    data: dict[str, Any] | None = Field(default=None, description="publish exactly this payload instead")


router = APIRouter()


@router.post("/emit")
async def emit(body: EmitRequest, request: Request) -> dict[str, int]:
    bus = request.app.state.bus
    pad = "x" * body.payload_bytes
    for i in range(body.count):
        bus.publish(
            body.type, body.data or {"i": i, "symbol": body.symbol, "pad": pad, "t_ns": time.time_ns()}
        )
    return {"published": body.count}


@router.get("/headers")
async def headers(request: Request, response: Response) -> dict[str, list[str]]:
    """The request headers as received, answered with headers a proxy must keep apart: two cookies, and
    one named in `Connection` (hop-by-hop)."""
    response.headers.append("set-cookie", "a=1")
    response.headers.append("set-cookie", "b=2")
    response.headers["connection"] = "x-hop"
    response.headers["x-hop"] = "for the next hop only"
    received: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        received.setdefault(name, []).append(value)
    return received


def create_app(settings: PlatformSettings) -> FastAPI:
    return create_service_app("ai", settings, routers=[router])


if __name__ == "__main__":
    run_service("ai", create_app)
