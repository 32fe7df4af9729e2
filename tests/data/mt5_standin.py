"""A stand-in for the mt5 service's market-data endpoints: the real deterministic market behind a minimal
HTTP wrapper, served by a real uvicorn server in a background thread.

Only the wrapper is a test double; ticks and bars come from `DeterministicMarket` on a `ReplayClock`,
exactly as the simulated terminal serves them (ranges inclusive, nothing after the clock's now).
`holes` are [from_s, to_s) spans the stand-in has no data for (to test "unfillable"), `silent` makes the
terminal return no ticks at all while its clock moves on (to test a stalled collection), and `requests`
counts the history requests by path prefix (to test that a second gap fill fetches nothing).
"""

from __future__ import annotations

import socket
from collections import Counter
from typing import Any

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from services.mt5.core.simulated.clock import ReplayClock
from services.mt5.core.simulated.market import DeterministicMarket
from shared.columnar import ARROW_MEDIA_TYPE, encode_arrow
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import get_timeframe
from tests.support.served_app import ServedApp


class StandinMarket:
    """The market, its clock, the holes and the request counters shared with the test."""

    def __init__(self, start_ms: int, speed: float = 1.0, seed: int = 0) -> None:
        self.market = DeterministicMarket(DEFAULT_SYMBOLS, seed=seed)
        self.clock = ReplayClock(start_ms, speed)
        self.holes: list[tuple[int, int]] = []
        self.silent = False
        self.requests: Counter[str] = Counter()

    def now_ms(self) -> int:
        return self.clock.now_ms()

    def without_holes(self, data: np.ndarray, times_s: np.ndarray) -> np.ndarray:
        keep = np.full(len(data), not self.silent)
        for a, b in self.holes:
            keep &= (times_s < a) | (times_s >= b)
        return data[keep]

    def ticks_range(self, symbol: str, from_ms: int, to_ms: int) -> np.ndarray:
        """What copy_ticks_range returns: from_ms <= time_msc <= to_ms, up to now."""
        ticks = self.market.ticks(symbol, from_ms, min(to_ms, self.now_ms()) + 1)
        return self.without_holes(ticks, ticks["time"])


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": {}}}, status_code=status)


def _arrow(data: np.ndarray) -> Response:
    return Response(encode_arrow(data), media_type=ARROW_MEDIA_TYPE)


def build_app(state: StandinMarket) -> FastAPI:
    app = FastAPI()
    market = state.market
    known = set(market.symbols)

    @app.get("/clock")
    def clock() -> dict[str, Any]:
        # One world as far as the data service is concerned: its data stays where the tests look for it.
        return {"world": "real", "clock": "replay", "now_ms": state.now_ms(), "speed": state.clock.speed}

    @app.get("/symbols")
    def symbols() -> list[dict[str, Any]]:
        return [{"name": s.name, "digits": s.digits, "point": s.point} for s in DEFAULT_SYMBOLS]

    @app.get("/symbols/{symbol}/tick", response_model=None)
    def tick(symbol: str) -> dict[str, Any] | JSONResponse:
        if symbol not in known:
            return _error(404, "unknown_symbol", f"unknown symbol {symbol}")
        row = market.last_tick(symbol, state.now_ms() + 1)
        if row is None or state.silent:
            return {}
        return {"time_msc": int(row["time_msc"]), "bid": float(row["bid"]), "ask": float(row["ask"])}

    @app.get("/ticks/{symbol}", response_model=None)
    def ticks(request: Request, symbol: str) -> Response:
        if symbol not in known:
            return _error(404, "unknown_symbol", f"unknown symbol {symbol}")
        q = request.query_params
        from_ms = int(q["from"])
        if "count" in q:
            state.requests["ticks_count"] += 1
            data = market.ticks_forward(symbol, from_ms, int(q["count"]), state.now_ms() + 1)
            return _arrow(state.without_holes(data, data["time"]))
        state.requests["ticks_range"] += 1
        return _arrow(state.ticks_range(symbol, from_ms, int(q["to"])))

    @app.get("/rates/{symbol}/{timeframe}", response_model=None)
    def rates(request: Request, symbol: str, timeframe: str) -> Response:
        if symbol not in known:
            return _error(404, "unknown_symbol", f"unknown symbol {symbol}")
        state.requests["rates"] += 1
        q = request.query_params
        tf = get_timeframe(timeframe)
        data = market.rates_range(symbol, tf, int(q["from"]), int(q["to"]), state.now_ms() + 1)
        return _arrow(state.without_holes(data, data["time"]))

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StandinServer:
    """The stand-in app on a real port, in a daemon thread; use as a context manager."""

    def __init__(self, state: StandinMarket, port: int | None = None) -> None:
        self.state = state
        self.port = port or free_port()
        self._served = ServedApp("mt5 stand-in", build_app(state), self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StandinServer:
        self._served.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._served.stop()
