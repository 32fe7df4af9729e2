"""The one stand-in data service of the tests: a real server speaking the data service's contract.

It is the platform's own app factory (so `/ws/events`, the internal token and the error shape are the
real ones) plus `GET /ohlc/{symbol}/{timeframe}`, `GET /completeness/{symbol}/{timeframe}` and
`GET /ticks/{symbol}` over bars and ticks held in memory, with the data service's time semantics: `from` and `to` are both inclusive, `count` is
the newest bars up to `to`. It runs under uvicorn in a background thread on the data service's port;
tests publish events (e.g. `candle.closed`) on its bus with `emit`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response

from shared.columnar import ARROW_MEDIA_TYPE, encode_arrow, to_columns
from shared.config import PlatformSettings
from shared.errors import InvalidInputError, NotFoundError
from shared.market.records import TICKS_DTYPE
from shared.market.timeframes import TIMEFRAMES, Timeframe
from shared.service_app import create_service_app
from tests.support.served_app import ServedApp

Series = tuple[str, str]  # (symbol, timeframe)
Ranges = Sequence[tuple[int, int]]  # half-open [from, to) holes, epoch s

router = APIRouter()


def _series(request: Request, symbol: str, timeframe: str) -> tuple[np.ndarray, Timeframe]:
    frame = TIMEFRAMES.get(timeframe.upper())
    if frame is None:
        raise InvalidInputError(f"unknown timeframe {timeframe!r}", code="unknown_timeframe")
    bars = request.app.state.store.get((symbol, frame.name))
    if bars is None:
        raise NotFoundError(f"unknown symbol {symbol!r}", code="unknown_symbol", details={"symbol": symbol})
    return bars, frame


@router.get("/ohlc/{symbol}/{timeframe}")
async def ohlc(
    request: Request,
    symbol: str,
    timeframe: str,
    from_: Annotated[int | None, Query(alias="from")] = None,
    to: int | None = None,
    count: int | None = None,
    format: str = "json",
) -> Any:
    """Bars with from <= time <= to, or the newest `count` up to `to`."""
    bars, frame = _series(request, symbol, timeframe)
    times = bars["time"]
    stop = len(bars) if to is None else int(np.searchsorted(times, to, side="right"))
    if from_ is not None:
        start = int(np.searchsorted(times, from_, side="left"))
    else:
        start = 0 if count is None else max(0, stop - count)
    window = bars[start:stop]
    request.app.state.requests.append({"from": from_, "to": to, "count": count, "rows": len(window)})
    if format == "arrow":
        return Response(encode_arrow(window), media_type=ARROW_MEDIA_TYPE)
    return {"symbol": symbol, "timeframe": frame.name, "count": len(window), "columns": to_columns(window)}


@router.get("/ticks/{symbol}")
async def ticks(
    request: Request,
    symbol: str,
    from_: Annotated[int, Query(alias="from")],
    to: int,
    limit: int | None = None,
    format: str = "json",
) -> Any:
    """Stored ticks (TICKS_DTYPE) with from <= time_msc <= to (epoch ms), at most `limit`."""
    stored = request.app.state.ticks.get(symbol, np.empty(0, dtype=TICKS_DTYPE))
    times = stored["time_msc"]
    start = int(np.searchsorted(times, from_, side="left"))
    stop = int(np.searchsorted(times, to, side="right"))
    window = stored[start : stop if limit is None else min(stop, start + limit)]
    if format == "arrow":
        return Response(encode_arrow(window), media_type=ARROW_MEDIA_TYPE)
    return {"symbol": symbol, "count": len(window), "columns": to_columns(window)}


@router.get("/completeness/{symbol}/{timeframe}")
async def completeness(
    request: Request,
    symbol: str,
    timeframe: str,
    from_: Annotated[int, Query(alias="from")],
    to: int,
) -> Any:
    """The configured holes overlapping [from, to], as {from, to, bars, unfillable}, and the percent present."""
    _, frame = _series(request, symbol, timeframe)
    end = to + 1  # `to` is inclusive
    holes = [
        (a, b) for a, b in request.app.state.missing.get((symbol, frame.name), ()) if a < end and b > from_
    ]
    lost = sum(min(b, end) - max(a, from_) for a, b in holes)
    return {
        "symbol": symbol,
        "timeframe": frame.name,
        "missing": [
            {"from": a, "to": b, "bars": (b - a) // frame.seconds, "unfillable": False} for a, b in holes
        ],
        "percent": 100 * (1 - lost / (end - from_)),
    }


class DataStandIn:
    """The stand-in on the data service's configured port from `start` (or `with`) until `stop`."""

    def __init__(
        self,
        settings: PlatformSettings,
        store: Mapping[Series, np.ndarray],
        missing: Mapping[Series, Ranges] | None = None,
        ticks: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.app: FastAPI = create_service_app("data", settings, routers=[router])
        self.app.state.store = store
        self.app.state.missing = missing or {}
        self.app.state.ticks = ticks or {}
        self.app.state.requests = []
        self._served = ServedApp("data stand-in", self.app, settings.service("data").port)

    @property
    def requests(self) -> list[dict[str, Any]]:
        return self.app.state.requests

    def start(self) -> DataStandIn:
        self._served.start()
        return self

    def emit(self, event_type: str, data: dict[str, Any]) -> None:
        """Publish an event on the stand-in's `/ws/events` from the test thread."""
        self.app.state.bus.publish_threadsafe(event_type, data)

    @property
    def followers(self) -> int:
        """Clients connected to the stand-in's event stream."""
        return self.app.state.bus.subscriber_count

    def stop(self) -> None:
        self._served.stop()

    def __enter__(self) -> DataStandIn:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
