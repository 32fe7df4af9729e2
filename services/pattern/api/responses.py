"""Responses built and encoded in a worker thread: series are numpy arrays written by orjson directly."""

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
    return await body_from_thread(lambda: encode(build()), "application/json")


async def body_from_thread(build: Callable[[], bytes], media_type: str) -> Response:
    """Run `build` (CPU work returning the encoded body) off the event loop."""
    return Response(await run_in_threadpool(build), media_type=media_type)
