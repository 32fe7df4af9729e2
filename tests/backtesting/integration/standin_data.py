"""A stand-in data service: a real uvicorn server in a background thread serving `/ohlc` (Arrow) and
`/completeness` from constructed bars, with the data service's contract (inclusive `to`, missing ranges
as {from, to, bars, unfillable})."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from fastapi import FastAPI, Query, Response

from shared.columnar import ARROW_MEDIA_TYPE, encode_arrow
from shared.service_app import error_response

Ranges = Sequence[tuple[int, int]]


def standin_app(bars: Mapping[str, np.ndarray], missing: Mapping[str, Ranges]) -> FastAPI:
    """Serves `bars[symbol]` (RATES_DTYPE arrays) and reports `missing[symbol]` ranges as gaps."""
    app = FastAPI()

    @app.get("/ohlc/{symbol}/{timeframe}")
    def ohlc(symbol: str, timeframe: str, from_: int = Query(alias="from"), to: int = Query()) -> Response:
        if symbol not in bars:
            return error_response(404, "unknown_symbol", f"unknown symbol {symbol!r}", {"symbol": symbol})
        rates = bars[symbol]
        window = rates[(rates["time"] >= from_) & (rates["time"] <= to)]  # inclusive `to`
        return Response(encode_arrow(window), media_type=ARROW_MEDIA_TYPE)

    @app.get("/completeness/{symbol}/{timeframe}")
    def completeness(
        symbol: str, timeframe: str, from_: int = Query(alias="from"), to: int = Query()
    ) -> object:
        if symbol not in bars:
            return error_response(404, "unknown_symbol", f"unknown symbol {symbol!r}", {"symbol": symbol})
        end = to + 1  # `to` is inclusive, as the data service takes it
        gaps = [(a, b) for a, b in missing.get(symbol, ()) if a < end and b > from_]
        lost = sum(min(b, end) - max(a, from_) for a, b in gaps)
        return {
            "symbol": symbol,
            "timeframe": timeframe,
            "missing": [{"from": a, "to": b, "bars": (b - a) // 3600, "unfillable": False} for a, b in gaps],
            "percent": 100 * (1 - lost / (end - from_)),
        }

    return app
