"""Request bodies carrying bars (ai, backtesting, pattern): JSON parsed off the event loop, or Arrow IPC.

A request of 100,000 bars is ~10 MB of JSON. FastAPI's default path (the stdlib `json` module, then
validation of the Python objects) takes several times longer than what is done here:
- first simdjson's fast path (`shared.market.bars_json`) reads the bar columns as buffers of numbers,
  and pydantic validates only the rest of the body;
- any body the fast path declines goes through `model_validate_json`, which parses and validates in one
  pass (`shared.market.bar_columns`), and whose refusals keep the shape of FastAPI's own (`body.<field>...`
  locations).
The model is still documented in OpenAPI through `body_schema`. The fast path builds the bars model with
`model_construct`, so a bars model must carry no validators: the rules across columns are
`shared.market.bar_input`'s, which the service runs on what this returns.
Services sending bulk bars can skip JSON parsing altogether with an Arrow IPC stream (DESIGN §5), decoded
here without copying.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
import orjson
import pyarrow as pa
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from shared.columnar import ARROW_MEDIA_TYPE
from shared.errors import InvalidInputError
from shared.market.bar_input import invalid_bars
from shared.market.bars_json import split_bars

M = TypeVar("M", bound=BaseModel)


def json_body(model: type[M]) -> Callable[[Request], Awaitable[M]]:
    """A dependency returning the request body validated as `model`."""

    async def parse(request: Request) -> M:
        return await parse_json(request, model)

    return parse


async def parse_json(request: Request, model: type[M]) -> M:
    """The request body validated as `model`, or FastAPI's 422 naming the field."""
    raw = await request.body()
    try:
        return await run_in_threadpool(_validate_json, raw, model)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from None


def _validate_json(raw: bytes, model: type[M]) -> M:
    return _with_bar_buffers(raw, model) or model.model_validate_json(raw)


def _with_bar_buffers(raw: bytes, model: type[M]) -> M | None:
    """`model` read through simdjson's fast path: the body without its bar columns validated by pydantic,
    the columns then put in as the arrays simdjson read. None whenever the fast path declines."""
    if "bars" not in model.model_fields:
        return None
    split = split_bars(raw)
    if split is None:
        return None
    try:
        skeleton = orjson.dumps({**split.rest, "bars": {name: [] for name in split.columns}})
        parsed = model.model_validate_json(skeleton)
    except (orjson.JSONEncodeError, ValidationError):
        return None  # refused: validated again whole, for errors about the body the client sent
    bars = type(parsed.bars).model_construct(**split.columns)  # type: ignore[attr-defined]
    return parsed.model_copy(update={"bars": bars})


def is_arrow(request: Request) -> bool:
    """Whether the body is an Arrow IPC stream."""
    return request.headers.get("content-type", "").startswith(ARROW_MEDIA_TYPE)


async def arrow_columns(request: Request) -> dict[str, np.ndarray]:
    """The columns of an Arrow IPC stream body: `time` integers without nulls, the others integers or
    floats (their nulls become NaN, which bar validation refuses with the row). Strings, booleans and
    other types are refused, as in a JSON body."""
    raw = await request.body()

    def decode() -> dict[str, np.ndarray]:
        table = pa.ipc.open_stream(raw).read_all()
        columns: dict[str, np.ndarray] = {}
        for name, column in zip(table.column_names, table.columns, strict=True):
            kind = column.type
            if name == "time" and not (pa.types.is_integer(kind) and column.null_count == 0):
                raise invalid_bars(name, None, f"epoch seconds must be integers without nulls, not {kind}")
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                raise invalid_bars(name, None, f"values must be numbers, not {kind}")
            columns[name] = column.to_numpy()
        return columns

    try:
        return await run_in_threadpool(decode)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(f"body: not an Arrow IPC stream: {exc}", code="invalid_bars") from None


def body_schema(model: type[BaseModel], *, arrow: str | None = None) -> dict[str, Any]:
    """`openapi_extra` documenting `model` as the JSON request body (nested models inlined).

    `arrow`, when given, documents the alternative Arrow IPC body as well.
    """
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    content: dict[str, Any] = {"application/json": {"schema": _inline(schema, definitions)}}
    if arrow is not None:
        content[ARROW_MEDIA_TYPE] = {"schema": {"type": "string", "format": "binary", "description": arrow}}
    return {"requestBody": {"required": True, "content": content}}


def _inline(node: Any, definitions: dict[str, Any]) -> Any:
    """Replace local `#/$defs/...` references, which OpenAPI would resolve against the whole document."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(definitions[ref.removeprefix("#/$defs/")], definitions)
        return {key: _inline(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline(item, definitions) for item in node]
    return node
