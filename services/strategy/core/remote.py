"""The Broker protocol over the mt5 service's contract client (bars come straight from `DataClient`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.strategy.core.order_batch import OrderBatcher
from services.strategy.core.ports import Position, Quote
from shared.contracts.mt5 import Mt5Client
from shared.market.clock import read_market_clock
from shared.market.symbols import SymbolSpec


def quote_from_symbol_info(info: Mapping[str, Any]) -> Quote:
    """A Quote from the mt5 service's `GET /symbols/{symbol}` body (MT5's SymbolInfo fields)."""
    tick_size = info["trade_tick_size"] or info["point"]
    spec = SymbolSpec(
        name=info["name"],
        digits=info["digits"],
        contract_size=info["trade_contract_size"],
        volume_min=info["volume_min"],
        volume_max=info["volume_max"],
        volume_step=info["volume_step"],
        tick_size=tick_size,
        spread_points=max(info["spread"], 0),
        stops_level=max(info["trade_stops_level"], 0),
        currency_base=info["currency_base"],
        currency_profit=info["currency_profit"],
        currency_margin=info["currency_margin"],
        base_price=info["bid"] if info["bid"] > 0 else 1.0,
    )
    # tick value is money per tick per lot; per 1.0 of price it is divided by the tick size.
    return Quote(spec, info["trade_tick_value"] / tick_size, info["bid"], info["ask"])


class Mt5Broker:
    """The mt5 service's trading endpoints; orders and closes travel in batches (see order_batch)."""

    def __init__(self, client: Mt5Client) -> None:
        self._client = client
        self._orders = OrderBatcher(self._post_batch, service=client.service)

    async def quote(self, symbol: str) -> Quote:
        return quote_from_symbol_info(await self._client.symbol_info(symbol))

    async def equity(self) -> float:
        return float((await self._client.account())["equity"])

    async def positions(self, symbol: str | None = None) -> list[Position]:
        return [Position.from_dict(p) for p in await self._client.positions(symbol)]

    async def send(self, request: Mapping[str, Any], client_id: str) -> dict[str, Any]:
        return await self._orders.submit({"kind": "order", **request, "client_order_id": client_id})

    async def close(self, ticket: int, client_id: str, **extra: Any) -> dict[str, Any]:
        return await self._orders.submit(
            {"kind": "close", "ticket": ticket, **extra, "client_order_id": client_id}
        )

    async def _post_batch(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return await self._client.orders_batch(requests)

    async def closed_profit(self, magic: int, from_s: int) -> float:
        deals = await self._client.deals(from_s)
        return sum(d["profit"] + d["commission"] + d["swap"] + d["fee"] for d in deals if d["magic"] == magic)

    async def market_now_ms(self) -> int | None:
        reading = await read_market_clock(self._client)
        return None if reading is None else reading.now_ms


class Mt5ClockHolds:
    """The replay clock's holds at the mt5 service, held under the service's name."""

    HOLDER = "strategy"

    def __init__(self, client: Mt5Client) -> None:
        self._client = client

    async def is_replay(self) -> bool:
        clock = await self._client.clock()
        return clock.clock == "replay" and clock.holds is not None

    async def register(self, streams: list[tuple[str, str]]) -> float | None:
        holds = await self._client.register_holds(self.HOLDER, streams)
        return next((h.lease_left_s for h in holds.holders if h.holder == self.HOLDER), None)

    async def wait(self, symbol: str, timeframe: str, bar_time: int) -> bool:
        return await self._client.wait_for_hold(symbol, timeframe, bar_time)

    async def release(self, symbol: str, timeframe: str, bar_time: int) -> None:
        await self._client.release_hold(symbol, timeframe, bar_time)
