"""A tiny real data service for the pattern service's tests: the OHLC contract and a real event stream.

It is the platform's own app factory (so `/ws/events`, the internal token and the error shape are the
real ones) plus `GET /ohlc/{symbol}/{timeframe}` serving bars held in memory. It runs under uvicorn in a
background thread; tests publish `candle.closed` on its bus with `emit`.
"""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import Response

from shared.columnar import ARROW_MEDIA_TYPE, encode_arrow, to_columns
from shared.config import PlatformSettings
from shared.errors import InvalidInputError, NotFoundError
from shared.market.records import RATES_DTYPE
from shared.market.timeframes import TIMEFRAMES
from shared.service_app import create_service_app
from tests.support.served_app import ServedApp

router = APIRouter()


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
    """Bars with from <= time <= to, or the last `count` up to `to` (the /ohlc contract: inclusive)."""
    if timeframe not in TIMEFRAMES:
        raise InvalidInputError(f"unknown timeframe {timeframe!r}", code="unknown_timeframe")
    bars = request.app.state.store.get((symbol, timeframe))
    if bars is None:
        raise NotFoundError(f"unknown symbol {symbol!r}", code="unknown_symbol", details={"symbol": symbol})
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
    return {"symbol": symbol, "timeframe": timeframe, "count": len(window), "columns": to_columns(window)}


def rates(time: np.ndarray, ohlc: np.ndarray) -> np.ndarray:
    """RATES_DTYPE bars from times and an (n, 4) array of open, high, low, close."""
    bars = np.zeros(len(time), dtype=RATES_DTYPE)
    bars["time"] = time
    for column, name in enumerate(("open", "high", "low", "close")):
        bars[name] = ohlc[:, column]
    bars["tick_volume"] = 10 + np.arange(len(time)) % 7
    return bars


class DataStandIn:
    """The stand-in running on the data service's configured port until `stop`."""

    def __init__(self, settings: PlatformSettings, store: dict[tuple[str, str], np.ndarray]) -> None:
        self.app: FastAPI = create_service_app("data", settings, routers=[router])
        self.app.state.store = store
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
