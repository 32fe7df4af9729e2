"""Bulk series responses: column-oriented JSON or Arrow IPC, streamed in pieces; time query parameters.

Both forms are written piece by piece from the finished array, so a large range never holds a second
full copy of itself as one body: JSON one column at a time, Arrow one record batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
from fastapi import Request
from starlette.responses import StreamingResponse

from shared.columnar import ARROW_MEDIA_TYPE, SeriesFormat, wants_arrow

ARROW_BATCH_ROWS = 128 * 1024
_ARROW_EOS = b"\xff\xff\xff\xff\x00\x00\x00\x00"


def series_response(
    request: Request, array: np.ndarray, fmt: SeriesFormat | None, meta: dict[str, Any]
) -> StreamingResponse:
    """The array as a streamed JSON object `{**meta, "count", "columns"}` or an Arrow IPC stream."""
    headers = {"x-count": str(len(array))}
    if wants_arrow(request, fmt):
        return StreamingResponse(
            arrow_pieces(array, {k: str(v) for k, v in meta.items()}),
            media_type=ARROW_MEDIA_TYPE,
            headers=headers,
        )
    return StreamingResponse(json_pieces(array, meta), media_type="application/json", headers=headers)


def json_pieces(array: np.ndarray, meta: dict[str, Any]) -> Iterator[bytes]:
    """`{...meta, "count": n, "columns": {"time": [...], ...}}`, one column per piece."""
    head = orjson.dumps({**meta, "count": len(array)})
    yield head[:-1] + b',"columns":{'
    for i, name in enumerate(array.dtype.names or ()):
        column = orjson.dumps(np.ascontiguousarray(array[name]), option=orjson.OPT_SERIALIZE_NUMPY)
        yield (b"," if i else b"") + orjson.dumps(name) + b":" + column
    yield b"}}"


def arrow_pieces(array: np.ndarray, metadata: dict[str, str]) -> Iterator[bytes | memoryview]:
    """An Arrow IPC stream: the schema, one message per record batch, then the end-of-stream marker."""
    names = list(array.dtype.names or ())
    schema = pa.schema([(n, pa.from_numpy_dtype(array.dtype[n])) for n in names], metadata=metadata)
    yield schema.serialize().to_pybytes()
    for start in range(0, len(array), ARROW_BATCH_ROWS):
        part = array[start : start + ARROW_BATCH_ROWS]
        batch = pa.RecordBatch.from_arrays(
            [pa.array(np.ascontiguousarray(part[n])) for n in names], schema=schema
        )
        yield memoryview(batch.serialize())  # the Arrow buffer itself: no copy into a bytes object
    yield _ARROW_EOS
