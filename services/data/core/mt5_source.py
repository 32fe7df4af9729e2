"""The mt5 service as a source of market data: async for the collector, sync for gap-fill workers.

Both speak the mt5 service's contract: `GET /ticks/{symbol}?from=&to=|count=` (epoch ms, inclusive)
and `GET /rates/{symbol}/{timeframe}?from=&to=` (epoch s, inclusive), in the Arrow IPC form.
"""

from __future__ import annotations

from typing import Any, Protocol

import httpx
import numpy as np

from shared.clients import ServiceClient
from shared.columnar import ARROW_MEDIA_TYPE, decode_arrow
from shared.errors import PlatformError, ServiceUnavailableError, UpstreamTimeoutError
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.service_app import INTERNAL_TOKEN_HEADER


class TickSource(Protocol):
    """What the collector needs from the terminal."""

    async def symbol_point(self, symbol: str) -> float: ...

    async def latest_tick_ms(self, symbol: str) -> int | None: ...

    async def ticks_from(self, symbol: str, from_ms: int, count: int) -> np.ndarray: ...


class Mt5TickSource:
    """TickSource over the mt5 service's HTTP API."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client
        self._points: dict[str, float] = {}

    async def symbol_point(self, symbol: str) -> float:
        """The symbol's point (spread unit of the bars), from the terminal's symbol list, cached."""
        if symbol not in self._points:
            infos = await self._client.get_json("/symbols")
            self._points.update({info["name"]: float(info["point"]) for info in infos})
        if symbol not in self._points:
            raise PlatformError(
                f"the terminal does not know {symbol}",
                code="unknown_symbol",
                details={"symbol": symbol},
                status_code=404,
            )
        return self._points[symbol]

    async def latest_tick_ms(self, symbol: str) -> int | None:
        """Time of the terminal's newest tick of a symbol (None when it has none)."""
        tick = await self._client.get_json(f"/symbols/{symbol}/tick")
        return int(tick["time_msc"]) if tick and tick.get("time_msc") else None

    async def ticks_from(self, symbol: str, from_ms: int, count: int) -> np.ndarray:
        """Up to `count` ticks with time_msc >= from_ms, oldest first, never beyond the terminal's now."""
        return await self._client.get_array(
            f"/ticks/{symbol}", TICKS_DTYPE, params={"from": from_ms, "count": count}
        )


class Mt5History:
    """Blocking client of the mt5 service's history endpoints, for gap-fill worker processes."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 60.0) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={INTERNAL_TOKEN_HEADER: token, "Accept": ARROW_MEDIA_TYPE},
            timeout=httpx.Timeout(timeout_s, connect=2.0),
        )
        self.requests = 0

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: dict[str, Any]) -> httpx.Response:
        self.requests += 1
        try:
            response = self._http.get(path, params=params)
        except httpx.TimeoutException:
            raise UpstreamTimeoutError("mt5 did not answer in time", details={"service": "mt5"}) from None
        except httpx.TransportError as exc:
            raise ServiceUnavailableError(
                f"mt5 is not reachable ({type(exc).__name__})", code="mt5_unavailable"
            ) from None
        if response.status_code >= 400:
            raise _upstream_error(response)
        return response

    def latest_tick_ms(self, symbol: str) -> int | None:
        tick = self._get(f"/symbols/{symbol}/tick", {}).json()
        return int(tick["time_msc"]) if tick and tick.get("time_msc") else None

    def rates(self, symbol: str, timeframe: str, from_s: int, to_s: int) -> np.ndarray:
        """Bars with from_s <= time <= to_s (RATES_DTYPE)."""
        response = self._get(f"/rates/{symbol}/{timeframe}", {"from": from_s, "to": to_s, "format": "arrow"})
        return decode_arrow(response.content, RATES_DTYPE)

    def ticks(self, symbol: str, from_ms: int, to_ms: int) -> np.ndarray:
        """Ticks with from_ms <= time_msc <= to_ms (TICKS_DTYPE)."""
        response = self._get(f"/ticks/{symbol}", {"from": from_ms, "to": to_ms, "format": "arrow"})
        return decode_arrow(response.content, TICKS_DTYPE)


def _upstream_error(response: httpx.Response) -> PlatformError:
    """The mt5 service's own error (code and status kept), or a 503 when it failed."""
    try:
        error = response.json()["error"]
        code, message, details = error["code"], error["message"], error.get("details", {})
    except (ValueError, KeyError, TypeError):
        code, message, details = "upstream_error", response.text[:200], {}
    if response.status_code >= 500:
        return ServiceUnavailableError(f"mt5 failed: {message}", code="mt5_error", details=details)
    return PlatformError(
        message, code=code, details={**details, "service": "mt5"}, status_code=response.status_code
    )
