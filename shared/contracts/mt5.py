"""The mt5 service's API as other services call it: symbols, account, positions, orders, history, clock.

Times follow the mt5 service's contract: `GET /ticks/{symbol}` in epoch ms, `GET /rates/{symbol}/{timeframe}`
and `GET /history/deals` in epoch s, ranges inclusive at both ends (MT5's `copy_*_range`); bulk series travel
in the Arrow form. Records (symbol info, account, positions, deals) are MT5's own fields, as dicts.
`Mt5Client` is async (services); `Mt5HistoryClient` is blocking, for gap-fill worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shared.clients import ServiceClient, SyncServiceClient
from shared.config import PlatformSettings
from shared.market.clock_holds import (
    ClockHoldRelease,
    ClockHoldsRead,
    ClockHoldsUpdate,
    ClockHoldWait,
    ClockHoldWaited,
    ClockStream,
)
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.market.world import MarketClockRead

Record = dict[str, Any]


def _tick_time_ms(tick: Mapping[str, Any] | None) -> int | None:
    return int(tick["time_msc"]) if tick and tick.get("time_msc") else None


class Mt5Client:
    """Async client of the mt5 service."""

    service = "mt5"

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    @classmethod
    def from_settings(cls, settings: PlatformSettings, *, timeout_s: float) -> Mt5Client:
        return cls(ServiceClient(settings, "mt5", timeout_s=timeout_s))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def clock(self) -> MarketClockRead:
        """The market's clock and world (`GET /clock`); a malformed answer raises pydantic's error."""
        return MarketClockRead.model_validate(await self._client.get_json("/clock"))

    async def register_holds(self, holder: str, streams: list[tuple[str, str]]) -> ClockHoldsRead:
        """Replace `holder`'s replay clock holds by `streams` of (symbol, timeframe) (`PUT /clock/holds`);
        a 409 `clock_not_replay` on the real-time clock."""
        body = ClockHoldsUpdate(
            holder=holder, streams=[ClockStream(symbol=s, timeframe=tf) for s, tf in streams]
        )
        answer = await self._client.request("PUT", "/clock/holds", json=body.model_dump())
        return ClockHoldsRead.model_validate(answer.json())

    async def release_hold(self, symbol: str, timeframe: str, bar_time: int) -> bool:
        """The candle opening at `bar_time` was handled: its replay clock hold ends (False: none was
        pending)."""
        body = ClockHoldRelease(symbol=symbol, timeframe=timeframe, bar_time=bar_time)
        answer = await self._client.post_json("/clock/holds/release", body.model_dump())
        return bool(answer["released"])

    async def wait_for_hold(self, symbol: str, timeframe: str, bar_time: int) -> bool:
        """Return once the replay clock stands at (or past) the hold after the candle opening at
        `bar_time` (`POST /clock/holds/wait`, at most the clock's hold timeout); True when held there."""
        body = ClockHoldWait(symbol=symbol, timeframe=timeframe, bar_time=bar_time)
        answer = await self._client.post_json("/clock/holds/wait", body.model_dump())
        return ClockHoldWaited.model_validate(answer).held

    async def symbols(self) -> list[Record]:
        """The terminal's symbols (`GET /symbols`)."""
        answer: list[Record] = await self._client.get_json("/symbols")
        return answer

    async def symbol_info(self, symbol: str) -> Record:
        """One symbol's MT5 SymbolInfo with its current bid and ask (`GET /symbols/{symbol}`)."""
        answer: Record = await self._client.get_json(f"/symbols/{symbol}")
        return answer

    async def latest_tick_ms(self, symbol: str) -> int | None:
        """Time of the terminal's newest tick of a symbol (None when it has none)."""
        return _tick_time_ms(await self._client.get_json(f"/symbols/{symbol}/tick"))

    async def ticks_from(self, symbol: str, from_ms: int, count: int) -> np.ndarray:
        """Up to `count` ticks with time_msc >= from_ms, oldest first, never beyond the terminal's now."""
        return await self._client.get_array(
            f"/ticks/{symbol}", TICKS_DTYPE, params={"from": from_ms, "count": count}
        )

    async def account(self) -> Record:
        """The trading account (`GET /account`)."""
        answer: Record = await self._client.get_json("/account")
        return answer

    async def positions(self, symbol: str | None = None) -> list[Record]:
        """Open positions, of one symbol or all."""
        answer: list[Record] = await self._client.get_json(
            "/positions", {"symbol": symbol} if symbol else None
        )
        return answer

    async def orders_batch(self, requests: list[dict[str, Any]]) -> list[Record]:
        """Orders and closes sent together (`POST /orders/batch`): one result per request, in order."""
        answer: dict[str, list[Record]] = await self._client.post_json(
            "/orders/batch", {"requests": requests}
        )
        return answer["results"]

    async def deals(self, from_s: int) -> list[Record]:
        """Deals from `from_s` (epoch s, inclusive) on (`GET /history/deals`)."""
        answer: list[Record] = await self._client.get_json("/history/deals", {"from": from_s})
        return answer


class Mt5HistoryClient:
    """Blocking client of the mt5 service's history endpoints, for gap-fill worker processes."""

    def __init__(self, base_url: str, token: str, timeout_s: float = 60.0) -> None:
        self._client = SyncServiceClient("mt5", base_url, token, timeout_s=timeout_s)

    @property
    def requests(self) -> int:
        """Requests sent so far (a gap fill reports them)."""
        return self._client.requests

    def close(self) -> None:
        self._client.close()

    def latest_tick_ms(self, symbol: str) -> int | None:
        return _tick_time_ms(self._client.get_json(f"/symbols/{symbol}/tick"))

    def market_now_ms(self) -> int:
        """The market's clock now (`GET /clock`: real time, the replay clock or the terminal's)."""
        return MarketClockRead.model_validate(self._client.get_json("/clock")).now_ms

    def rates(self, symbol: str, timeframe: str, from_s: int, to_s: int) -> np.ndarray:
        """Bars with from_s <= time <= to_s (RATES_DTYPE)."""
        return self._client.get_array(
            f"/rates/{symbol}/{timeframe}", RATES_DTYPE, {"from": from_s, "to": to_s}
        )

    def ticks(self, symbol: str, from_ms: int, to_ms: int) -> np.ndarray:
        """Ticks with from_ms <= time_msc <= to_ms (TICKS_DTYPE)."""
        return self._client.get_array(f"/ticks/{symbol}", TICKS_DTYPE, {"from": from_ms, "to": to_ms})
