"""The data service's API as other services call it: stored bars (`/ohlc`), ticks (`/ticks`) and the bars'
completeness.

`GET /ohlc/{symbol}/{timeframe}` answers the bars opening in [from, to], both ends inclusive (or the newest
`count` bars up to `to`, or the latest), as RATES_DTYPE columns in the Arrow form, with the data service's
coverage of them in the schema metadata. `GET /completeness/{symbol}/{timeframe}?from=&to=` (inclusive)
names the missing ranges.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from shared.clients import ServiceClient
from shared.config import PlatformSettings
from shared.market.coverage import Coverage
from shared.market.records import RATES_DTYPE, TICKS_DTYPE


class CoveredBars(NamedTuple):
    """Bars read and what the data service said they cover (None from one that does not say)."""

    bars: np.ndarray
    coverage: Coverage | None


class MissingRange(BaseModel):
    """Bars missing from `from_` to `to` (epoch s)."""

    model_config = ConfigDict(extra="ignore")

    from_: int = Field(validation_alias="from")
    to: int


class Completeness(BaseModel):
    """What `/completeness` says of a range: the missing ranges of the trading calendar and the percent."""

    model_config = ConfigDict(extra="ignore")

    missing: list[MissingRange] = []
    percent: float | None = None


class DataClient:
    """Async client of the data service."""

    def __init__(self, client: ServiceClient) -> None:
        self._client = client

    @classmethod
    def from_settings(cls, settings: PlatformSettings, *, timeout_s: float) -> DataClient:
        return cls(ServiceClient(settings, "data", timeout_s=timeout_s))

    async def aclose(self) -> None:
        await self._client.aclose()

    async def ohlc(
        self,
        symbol: str,
        timeframe: str,
        *,
        from_s: int | None = None,
        to_s: int | None = None,
        count: int | None = None,
    ) -> CoveredBars:
        """Bars opening in [from_s, to_s] (inclusive), or the newest `count` up to `to_s`, oldest first,
        and their coverage."""
        params = {
            name: value
            for name, value in (("from", from_s), ("to", to_s), ("count", count))
            if value is not None
        }
        bars, metadata = await self._client.get_array_with_metadata(
            f"/ohlc/{symbol}/{timeframe}", RATES_DTYPE, params
        )
        return CoveredBars(bars, Coverage.from_metadata(metadata))

    async def bars(
        self,
        symbol: str,
        timeframe: str,
        *,
        from_s: int | None = None,
        to_s: int | None = None,
        count: int | None = None,
    ) -> np.ndarray:
        """`ohlc` without the coverage."""
        return (await self.ohlc(symbol, timeframe, from_s=from_s, to_s=to_s, count=count)).bars

    async def ticks(self, symbol: str, from_ms: int, to_ms: int, *, limit: int) -> np.ndarray:
        """Stored ticks with from_ms <= time_msc <= to_ms, oldest first, at most `limit` (TICKS_DTYPE, read
        in the Arrow form)."""
        return await self._client.get_array(
            f"/ticks/{symbol}", TICKS_DTYPE, {"from": from_ms, "to": to_ms, "limit": limit}
        )

    async def completeness(self, symbol: str, timeframe: str, from_s: int, to_s: int) -> Completeness:
        """The completeness of [from_s, to_s] (inclusive)."""
        body = await self._client.get_json(
            f"/completeness/{symbol}/{timeframe}", {"from": from_s, "to": to_s}
        )
        return Completeness.model_validate(body)
