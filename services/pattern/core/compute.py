"""Running validated specs over bars with TA-Lib, column-oriented, and cutting the result to a window.

Bars are a mapping of equal-length 1-d arrays: `time` (epoch seconds) plus the columns the specs read,
normally `open`, `high`, `low`, `close`, `volume` (the bar's tick_volume). Outputs keep TA-Lib's values
exactly; the warm-up of each indicator is NaN, which `encode_columns` writes as JSON `null` (orjson's
numpy serialiser does that natively, about 3x faster than building lists), and `ColumnFrame.to_arrow`
as an Arrow null.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import talib
from talib.abstract import Function as TaFunction  # type: ignore[attr-defined]

from services.pattern.core.spec import Spec
from shared.errors import InvalidInputError

Bars = Mapping[str, np.ndarray]


@dataclass(frozen=True, slots=True)
class ColumnFrame:
    """Equal-length columns sharing one `time` axis."""

    time: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.time)

    def slice(self, start: int, stop: int | None = None) -> ColumnFrame:
        """Rows `start:stop` (views, no copy)."""
        return ColumnFrame(self.time[start:stop], {k: v[start:stop] for k, v in self.columns.items()})

    def window(
        self, *, start_time: int | None = None, end_time: int | None = None, count: int | None = None
    ) -> ColumnFrame:
        """Rows with start_time <= time <= end_time, then the last `count` of them."""
        lo = 0 if start_time is None else int(np.searchsorted(self.time, start_time, side="left"))
        hi = len(self.time) if end_time is None else int(np.searchsorted(self.time, end_time, side="right"))
        if count is not None:
            lo = max(lo, hi - count)
        return self.slice(lo, hi)

    def to_json(self) -> bytes:
        """`{"time": [...], "<column>": [...], ...}` with NaN as null."""
        return encode_columns({"time": self.time, **self.columns})

    def to_arrow(self, metadata: Mapping[str, str]) -> bytes:
        """An Arrow IPC stream: `time` (int64) and float64 columns with NaN as null, plus schema metadata."""
        arrays = [pa.array(self.time)] + [pa.array(v, from_pandas=True) for v in self.columns.values()]
        batch = pa.RecordBatch.from_arrays(arrays, names=["time", *self.columns])
        batch = batch.replace_schema_metadata(dict(metadata))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, batch.schema) as writer:
            writer.write_batch(batch)
        return sink.getvalue().to_pybytes()


def encode_columns(columns: Mapping[str, Any]) -> bytes:
    """orjson-encode a mapping of numpy arrays (NaN and infinities become null)."""
    return orjson.dumps(columns, option=orjson.OPT_SERIALIZE_NUMPY)


def lookback(spec: Spec) -> int:
    """Bars TA-Lib consumes before the first output value (TA-Lib's own lookback for these parameters)."""
    function = TaFunction(spec.name)
    function.set_parameters(spec.kwargs)
    return int(function.lookback)


def max_lookback(specs: Iterable[Spec]) -> int:
    """The largest lookback among specs: the extra history to read before a requested window."""
    return max((lookback(spec) for spec in specs), default=0)


def compute(specs: Iterable[Spec], bars: Bars) -> ColumnFrame:
    """Every spec's outputs over `bars`, one column per output named as `Spec.output_columns` says."""
    inputs = BarInputs(bars)
    columns: dict[str, np.ndarray] = {}
    for spec in specs:
        outputs = run(spec, inputs)
        columns.update(zip(spec.output_columns, outputs, strict=True))
    return ColumnFrame(inputs.time, columns)


def run(spec: Spec, inputs: BarInputs) -> tuple[np.ndarray, ...]:
    """TA-Lib's outputs of one spec, always as a tuple."""
    arrays = [inputs.column(column, spec) for column in spec.columns]
    if inputs.length == 0:
        # TA-Lib rejects empty input; an empty window simply has empty columns.
        return tuple(np.empty(0) for _ in spec.function.outputs)
    try:
        result = getattr(talib, spec.name)(*arrays, **spec.kwargs)
    except Exception as exc:  # talib raises bare Exception("... TA_BAD_PARAM") for rejected parameters
        raise InvalidInputError(
            f"TA-Lib rejected {spec.label}: {exc}",
            code="invalid_parameter",
            details={spec.function.item: spec.name, "parameter": None, "reason": str(exc)},
        ) from exc
    return result if isinstance(result, tuple) else (result,)


class BarInputs:
    """Bar columns converted once to the contiguous float64 arrays TA-Lib needs."""

    def __init__(self, bars: Bars) -> None:
        """Check the columns agree in length; `time` defaults to the row index when absent."""
        lengths = {name: len(values) for name, values in bars.items()}
        if len(set(lengths.values())) > 1:
            raise InvalidInputError("bar columns differ in length", code="invalid_bars", details=lengths)
        self._bars = bars
        self._cache: dict[str, np.ndarray] = {}
        self.length = next(iter(lengths.values()), 0)
        time = bars.get("time")
        self.time = np.asarray(time, dtype=np.int64) if time is not None else np.arange(self.length)

    def column(self, name: str, spec: Spec) -> np.ndarray:
        """Column `name` as float64, or a 422 naming the spec that needs it."""
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        if name not in self._bars:
            raise InvalidInputError(
                f"{spec.label} needs the input column {name!r}",
                code="missing_input",
                details={spec.function.item: spec.name, "column": name, "available": sorted(self._bars)},
            )
        array = np.ascontiguousarray(self._bars[name], dtype=np.float64)
        self._cache[name] = array
        return array
