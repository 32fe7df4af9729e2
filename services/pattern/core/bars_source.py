"""Bars from the data service over HTTP, with the extra history an indicator's look-back needs.

The data service's contract: `GET /ohlc/{symbol}/{timeframe}?from=&to=|count=&format=arrow|json` returns
bars with from <= time < to (or the last `count` bars before `to`, or the latest), as RATES_DTYPE columns.
Arrow IPC is asked for (bulk transfer between services); JSON is understood too. The data service being
down is a 503 `data_unavailable`; its 4xx (unknown symbol, bad timeframe) pass through with its code.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import httpx
import numpy as np
import orjson

from shared.columnar import ARROW_MEDIA_TYPE, decode_arrow_with_metadata, from_columns
from shared.errors import PlatformError, ServiceUnavailableError
from shared.market.coverage import Coverage
from shared.market.coverage import merge as merge_coverage
from shared.market.records import RATES_DTYPE
from shared.service_app import INTERNAL_TOKEN_HEADER

Columns = dict[str, np.ndarray]


class CoveredBars(NamedTuple):
    """Bars read and what the data service said they cover."""

    bars: np.ndarray
    coverage: Coverage | None


@dataclass(frozen=True, slots=True)
class BarQuery:
    """Which bars a client asked for: from <= time < to, or the last `count` bars before `to` (or now)."""

    start: int | None = None
    end: int | None = None
    count: int | None = None


class DataServiceBars:
    """Async client of the data service's OHLC endpoint."""

    def __init__(
        self,
        base_url: str,
        internal_token: str,
        *,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={INTERNAL_TOKEN_HEADER: internal_token},
            timeout=timeout_s,
            transport=transport,
        )
        self._clock = clock

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def fetch(self, symbol: str, timeframe: str, query: BarQuery) -> np.ndarray:
        """Bars as a RATES_DTYPE structured array, oldest first."""
        return (await self.fetch_covered(symbol, timeframe, query)).bars

    async def fetch_covered(self, symbol: str, timeframe: str, query: BarQuery) -> CoveredBars:
        """Bars as a RATES_DTYPE structured array, oldest first, and the data service's coverage of them
        (None from a data service that does not say)."""
        params: dict[str, int | str] = {"format": "arrow"}
        if query.start is not None:
            params["from"] = query.start
            # A range needs both ends; an open end means "up to now", the bar forming now included.
            params["to"] = query.end if query.end is not None else int(self._clock()) + 1
        else:
            if query.end is not None:
                params["to"] = query.end
            if query.count is not None:
                params["count"] = query.count
        try:
            response = await self._client.get(f"/ohlc/{symbol}/{timeframe}", params=params)
        except httpx.HTTPError as exc:
            raise _unavailable(f"data service unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise _upstream_error(response)
        if response.headers.get("content-type", "").startswith(ARROW_MEDIA_TYPE):
            bars, metadata = decode_arrow_with_metadata(response.content, RATES_DTYPE)
            return CoveredBars(bars, Coverage.from_metadata(metadata))
        body = orjson.loads(response.content)
        coverage = body.get("coverage")
        return CoveredBars(
            from_columns(body["columns"], RATES_DTYPE),
            None if coverage is None else Coverage.model_validate(coverage),
        )

    async def fetch_with_history(
        self, symbol: str, timeframe: str, query: BarQuery, history: int
    ) -> tuple[CoveredBars, int]:
        """The requested bars preceded by up to `history` earlier ones (with the coverage of all of them),
        and the index where the request starts.

        A range is read as two calls (the `history` bars before `from`, and the range itself) because the
        bar count between two times depends on the trading calendar; a count is simply read longer.
        """
        if query.start is None:
            count = None if query.count is None else query.count + history
            read = await self.fetch_covered(symbol, timeframe, BarQuery(end=query.end, count=count))
            first = 0 if query.count is None else max(0, len(read.bars) - query.count)
            return read, first
        if history == 0:
            return await self.fetch_covered(symbol, timeframe, query), 0
        # The look-back ends just before `from` (the data service's `to` is inclusive), so the two reads'
        # windows only touch and their holes join without counting a bar twice.
        before, window = await asyncio.gather(
            self.fetch_covered(symbol, timeframe, BarQuery(end=query.start - 1, count=history)),
            self.fetch_covered(symbol, timeframe, query),
        )
        # Whether `to` is read as inclusive or exclusive, the bar at `from` belongs to the window only.
        kept = before.bars[before.bars["time"] < query.start][-history:]
        coverage = None
        if before.coverage is not None and window.coverage is not None:
            coverage = merge_coverage([before.coverage, window.coverage])
        return CoveredBars(np.concatenate([kept, window.bars]), coverage), len(kept)


def bar_columns(bars: np.ndarray) -> Columns:
    """RATES_DTYPE bars as the columns the core reads; `volume` is the bar's tick volume, as in MT5 charts."""
    columns = {name: np.ascontiguousarray(bars[name]) for name in RATES_DTYPE.names or ()}
    columns["volume"] = columns["tick_volume"].astype(np.float64)
    return columns


def _unavailable(message: str, **details: object) -> ServiceUnavailableError:
    return ServiceUnavailableError(message, code="data_unavailable", details=dict(details))


def _upstream_error(response: httpx.Response) -> PlatformError:
    """The data service's 4xx as the same error; anything else means it cannot serve us now."""
    status = response.status_code
    try:
        error = orjson.loads(response.content)["error"]
        code, message, details = error["code"], error["message"], error.get("details") or {}
    except (orjson.JSONDecodeError, KeyError, TypeError):
        code, message, details = "data_error", response.text[:200], {}
    # 401/403 mean our token is wrong: the client did nothing wrong, the data service is unusable to us.
    if 400 <= status < 500 and status not in (401, 403):
        return PlatformError(message, code=code, details=details, status_code=status)
    return _unavailable(f"data service answered {status}: {message}", status=status, code=code)
