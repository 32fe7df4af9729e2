"""Series responses in the three forms: column-oriented JSON, Arrow IPC, MT5 export CSV."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from fastapi.responses import Response

from services.data.api.params import OutputFormat
from services.data.core.mt5_csv import export_mt5_csv
from shared.columnar import ARROW_MEDIA_TYPE, encode_arrow, to_columns
from shared.market.coverage import Coverage
from shared.service_app import FastJSONResponse


def series_response(
    data: np.ndarray,
    fmt: OutputFormat,
    meta: dict[str, Any],
    filename: str,
    coverage: Coverage | None = None,
) -> Response:
    """`data` (RATES_DTYPE or TICKS_DTYPE) as JSON `{**meta, "count", "columns": {column: [...]}}` (the
    shape of every bulk series in the platform), Arrow or CSV.

    A `coverage` goes in the JSON as a field and in the Arrow schema metadata (MT5's CSV has no place).
    """
    if fmt == "arrow":
        metadata = coverage.to_metadata() if coverage is not None else None
        return Response(encode_arrow(data, metadata), media_type=ARROW_MEDIA_TYPE)
    if fmt == "csv":
        out = io.BytesIO()
        export_mt5_csv(data, out)
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
        )
    extra = {"coverage": coverage.to_dict()} if coverage is not None else {}
    return FastJSONResponse({**meta, "count": len(data), **extra, "columns": to_columns(data)})
