"""A stand-in data service: a real uvicorn server in a background thread serving `/ohlc` (Arrow) and
`/completeness` from constructed bars, with the data service's contract (inclusive `to`, missing ranges
as {from, to, bars, unfillable})."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import uvicorn
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


@contextmanager
def serve(app: FastAPI, port: int) -> Iterator[None]:
    """Run `app` on 127.0.0.1:`port` until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"stand-in data server did not start on port {port}")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(5)
