"""Bulk series between services: numpy structured arrays ↔ Arrow IPC stream bytes, and ↔ JSON columns.

Arrow IPC is the binary columnar form (DESIGN §5): columns travel as raw little-endian buffers, so a
million ticks cost a memcpy on each side instead of a million JSON numbers.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pyarrow as pa
from starlette.requests import Request

ARROW_MEDIA_TYPE = "application/vnd.apache.arrow.stream"

SeriesFormat = Literal["json", "arrow"]
"""The `format=` query parameter of a bulk series response."""


def wants_arrow(request: Request, fmt: SeriesFormat | None) -> bool:
    """`format=` decides; without it, an Accept header naming the Arrow stream type does."""
    if fmt is not None:
        return fmt == "arrow"
    return ARROW_MEDIA_TYPE in request.headers.get("accept", "")


def encode_arrow(array: np.ndarray, metadata: dict[str, str] | None = None) -> bytes:
    """A structured array as one Arrow IPC stream (one record batch, one column per field)."""
    names = list(array.dtype.names or ())
    columns = [pa.array(np.ascontiguousarray(array[name])) for name in names]
    batch = pa.RecordBatch.from_arrays(columns, names=names)
    if metadata:
        batch = batch.replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    return sink.getvalue().to_pybytes()


def decode_arrow(data: bytes, dtype: np.dtype) -> np.ndarray:
    """An Arrow IPC stream back into a structured array of `dtype` (columns matched by name)."""
    return decode_arrow_with_metadata(data, dtype)[0]


def decode_arrow_with_metadata(data: bytes, dtype: np.dtype) -> tuple[np.ndarray, dict[bytes, bytes]]:
    """`decode_arrow`, and the stream's schema metadata (what the sender said about the series)."""
    table = pa.ipc.open_stream(data).read_all()
    out = np.empty(table.num_rows, dtype=dtype)
    for name in dtype.names or ():
        out[name] = table.column(name).to_numpy()
    return out, dict(table.schema.metadata or {})


def to_columns(array: np.ndarray) -> dict[str, Any]:
    """Column-oriented mapping of a structured array, for orjson (numpy arrays serialise natively)."""
    return {name: np.ascontiguousarray(array[name]) for name in array.dtype.names or ()}


def from_columns(columns: dict[str, Any], dtype: np.dtype) -> np.ndarray:
    """A structured array from JSON columns (lists of equal length); missing fields are zero."""
    lengths = {len(columns[name]) for name in dtype.names or () if name in columns}
    if len(lengths) > 1:
        raise ValueError(f"columns have different lengths: {sorted(lengths)}")
    out = np.zeros(lengths.pop() if lengths else 0, dtype=dtype)
    for name in dtype.names or ():
        if name in columns:
            out[name] = np.asarray(columns[name], dtype=dtype[name])
    return out
