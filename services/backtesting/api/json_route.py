"""A route class that parses JSON bodies with orjson off the event loop.

Backtest requests may carry a million bars inline (~80 MB of JSON); the standard library parser takes
seconds on that and would hold the event loop meanwhile. This is FastAPI's documented custom-Request
pattern: only `json()` changes, validation and the OpenAPI schema stay FastAPI's.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = (
                orjson.loads(body) if len(body) < 65_536 else await run_in_threadpool(orjson.loads, body)
            )
        return self._json


class OrjsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def parse_with_orjson(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return parse_with_orjson
