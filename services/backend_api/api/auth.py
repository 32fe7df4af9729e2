"""API-key check for everything backend-api serves except `/health` and the dashboard's static files.

The dashboard's HTML, CSS and JavaScript carry no data; every call they make needs the key. A WebSocket, and
a page a browser opens by its address (the API docs), cannot send a header: they may give it as `?token=`.
"""

from __future__ import annotations

import hmac
import re
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from services.backend_api.core.auth_throttle import AuthThrottle
from shared.service_app import error_response

OPEN_PATHS = frozenset({"/health"})


def supplied_key(scope: Scope, query_key_paths: re.Pattern[str] | None = None) -> str:
    """The key from `Authorization: Bearer`, `X-API-Key`, or `?token=` (on a WebSocket, or a GET of a path
    `query_key_paths` matches)."""
    headers = dict(scope["headers"])
    auth = headers.get(b"authorization", b"").decode("latin-1")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    if b"x-api-key" in headers:
        return headers[b"x-api-key"].decode("latin-1")
    opened_by_address = (
        scope["type"] == "http"
        and scope["method"] == "GET"
        and query_key_paths is not None
        and query_key_paths.fullmatch(scope["path"]) is not None
    )
    if scope["type"] == "websocket" or opened_by_address:
        tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
        if tokens:
            return tokens[0]
    return ""


class ApiKeyMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        api_key: str,
        throttle: AuthThrottle,
        open_paths: frozenset[str] = frozenset(),
        open_prefixes: tuple[str, ...] = (),
        query_key_paths: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.key = api_key.encode()
        self.throttle = throttle
        self.open_paths = OPEN_PATHS | open_paths
        self.open_prefixes = open_prefixes
        self.query_key_paths = query_key_paths

    def _is_open(self, path: str) -> bool:
        return path in self.open_paths or path.startswith(self.open_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._is_open(scope["path"]):
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        if (retry_after_s := self.throttle.retry_after_s(client)) is not None:
            await self._refuse(scope, receive, send, retry_after_s)
            return
        if hmac.compare_digest(supplied_key(scope, self.query_key_paths).encode(), self.key):
            await self.app(scope, receive, send)
            return
        self.throttle.failed(client, scope.get("method", "WEBSOCKET"), scope["path"])
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        response = error_response(
            401, "unauthorized", "missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-API-Key'"
        )
        response.headers["www-authenticate"] = "Bearer"
        await response(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, retry_after_s: int) -> None:
        """Too many failed authentications from this address: refused until its window has passed."""
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013})  # "try again later"
            return
        response = error_response(
            429,
            "too_many_requests",
            f"too many failed authentications from this address; retry after {retry_after_s} s",
            {"retry_after_s": retry_after_s},
        )
        response.headers["retry-after"] = str(retry_after_s)
        await response(scope, receive, send)
