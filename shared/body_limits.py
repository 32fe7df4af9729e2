"""Request body limits: an oversized body is refused with a 413 before it is read whole.

A body is held in memory by the route that parses it (a 200 MB JSON body cost a service 0.6-1 GB), so the
limit is checked where the bytes arrive: the declared Content-Length first, then the bytes of a streamed
(chunked) body as they come in, the request being refused as soon as their count passes the limit. Each
route belongs to a family (ordinary JSON, posted bars, a CSV import) whose limit is a `body_limits` key; the
gateway applies the limit of the family it proxies to, so it never forwards what the child would refuse.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.config import BodyFamily, BodyLimitsSection
from shared.errors import BodyTooLargeError

# Routes whose bodies may exceed an ordinary request's, by service; every other route is "default".
_BULK_ROUTES: dict[str, tuple[tuple[re.Pattern[str], BodyFamily], ...]] = {
    "pattern": (
        (re.compile(r"/indicators/compute"), "bars"),
        (re.compile(r"/patterns/detect"), "bars"),
        (re.compile(r"/chart-patterns/analyze"), "bars"),
    ),
    "ai": (
        (re.compile(r"/models/train"), "bars"),
        (re.compile(r"/models/[^/]+/predict"), "bars"),
    ),
    "backtesting": (
        (re.compile(r"/backtest/start"), "bars"),
        (re.compile(r"/optimize"), "bars"),
        (re.compile(r"/walk-forward"), "bars"),
    ),
    "data": ((re.compile(r"/import"), "import"),),
}
# The gateway's proxy routes: `/api/{service}/{path}` carries the body of the child's route.
_GATEWAY_ROUTE = re.compile(r"/api/(?P<service>[^/]+)(?P<path>/.*)")
GATEWAY = "backend-api"


def body_family(service: str, path: str) -> BodyFamily:
    """The family of `service`'s route at `path`; the gateway's proxy routes take their target's."""
    if service == GATEWAY and (proxied := _GATEWAY_ROUTE.fullmatch(path)):
        service, path = proxied["service"], proxied["path"]
    path = path.rstrip("/") or "/"
    return next(
        (family for route, family in _BULK_ROUTES.get(service, ()) if route.fullmatch(path)), "default"
    )


class _BodyLimitPassed(Exception):
    """Raised from `receive` once a streamed body passes its limit, so the route stops reading it."""


class BodyLimitMiddleware:
    """Refuses (413) a request whose declared or streamed body is larger than its route family's limit."""

    def __init__(self, app: ASGIApp, service: str, limits: BodyLimitsSection) -> None:
        self.app = app
        self.service = service
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        family = body_family(self.service, scope["path"])
        limit = self.limits.limit(family)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, send, family, limit, {"content_length": declared})
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _BodyLimitPassed(f"request body passed {limit} bytes")
            return message

        async def guarded_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if exceeded and not started:
                return  # the route's own answer to the aborted read (a 400, a 500) gives way to the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await _refuse(scope, send, family, limit, {"received_bytes": received})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # the server has refused a malformed one
    return None


async def _refuse(scope: Scope, send: Send, family: BodyFamily, limit: int, seen: dict[str, int]) -> None:
    setting = f"body_limits.{family}_bytes"
    error = BodyTooLargeError(
        f"the request body is larger than {limit} bytes ({setting})",
        details={"limit_bytes": limit, "family": family, "setting": setting, **seen},
    )
    # Connection: close, as the rest of an unread body is not worth receiving on a kept-alive connection.
    response = Response(
        orjson.dumps(error.to_body()),
        status_code=error.status_code,
        media_type="application/json",
        headers={"connection": "close"},
    )
    await response(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}
