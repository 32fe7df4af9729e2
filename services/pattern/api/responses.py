"""JSON responses built and encoded in a worker thread: series are numpy arrays written by orjson directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool


def encode(content: Any) -> bytes:
    """orjson with numpy arrays serialised natively (NaN and infinities become null)."""
    return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


async def json_from_thread(build: Callable[[], Any]) -> Response:
    """Run `build` (CPU work returning JSON-ready content) and its encoding off the event loop."""
    body = await run_in_threadpool(lambda: encode(build()))
    return Response(body, media_type="application/json")
