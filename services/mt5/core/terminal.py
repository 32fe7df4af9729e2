"""The terminal interface: the MetaTrader5 module's surface, implemented by every adapter.

Return shapes are the module's (see shared/reference/MT5_API.md): numpy arrays with RATES_DTYPE /
TICKS_DTYPE, the named tuples of shared.market.records, `None` (or False) on failure with the reason in
`last_error()`, and TRADE_RETCODE_* in trade results. Every method is synchronous: the service runs them in
a worker thread. Times are UTC; date arguments are UTC-aware datetimes or epoch seconds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import numpy as np

from shared.market.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
)
from shared.market.symbols import SymbolSpec

TimeArg = datetime | int | float
"""A UTC-aware datetime, or epoch seconds (int or float, as the MetaTrader5 module accepts)."""


def to_epoch_ms(value: TimeArg) -> int:
    """Epoch milliseconds of a date argument; naive datetimes are refused (MT5 would read local time)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: pass a timezone-aware (UTC) datetime")
        return int(value.timestamp() * 1000)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a datetime or epoch seconds, got {type(value).__name__}")
    return round(value * 1000)


def spec_from_symbol_info(info: SymbolInfo) -> SymbolSpec:
    """The SymbolSpec the service validates against, built from a terminal's SymbolInfo."""
    return SymbolSpec(
        name=info.name,
        description=info.description,
        path=info.path,
        digits=info.digits,
        contract_size=info.trade_contract_size,
        volume_min=info.volume_min,
        volume_max=info.volume_max,
        volume_step=info.volume_step,
        tick_size=info.trade_tick_size or None,
        spread_points=max(info.spread, 0),
        stops_level=max(info.trade_stops_level, 0),
        currency_base=info.currency_base,
        currency_profit=info.currency_profit,
        currency_margin=info.currency_margin,
        trade_mode=info.trade_mode,
        filling_mode=info.filling_mode & 3,
        swap_long=info.swap_long,
        swap_short=info.swap_short,
        base_price=info.bid if info.bid > 0 else 1.0,
    )


@runtime_checkable
class Terminal(Protocol):
    """What the mt5 service needs from a terminal: the MetaTrader5 module's functions, same shapes."""

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int = 60_000,
        portable: bool = False,
    ) -> bool: ...

    def login(
        self, login: int, *, password: str | None = None, server: str | None = None, timeout: int = 60_000
    ) -> bool: ...

    def shutdown(self) -> None: ...

    def last_error(self) -> tuple[int, str]: ...

    def version(self) -> tuple[int, int, str] | None: ...

    def account_info(self) -> AccountInfo | None: ...

    def terminal_info(self) -> TerminalInfo | None: ...

    def symbols_total(self) -> int: ...

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None: ...

    def symbol_info(self, symbol: str) -> SymbolInfo | None: ...

    def symbol_info_tick(self, symbol: str) -> Tick | None: ...

    def symbol_select(self, symbol: str, enable: bool = True) -> bool: ...

    def symbol_spec(self, symbol: str) -> SymbolSpec:
        """The symbol's facts for validation; raises NotFoundError (code unknown_symbol) when unknown."""
        ...

    def copy_rates_from(
        self, symbol: str, timeframe: int, date_from: TimeArg, count: int
    ) -> np.ndarray | None: ...

    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> np.ndarray | None: ...

    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: TimeArg, date_to: TimeArg
    ) -> np.ndarray | None: ...

    def copy_ticks_from(
        self, symbol: str, date_from: TimeArg, count: int, flags: int
    ) -> np.ndarray | None: ...

    def copy_ticks_range(
        self, symbol: str, date_from: TimeArg, date_to: TimeArg, flags: int
    ) -> np.ndarray | None: ...

    def orders_total(self) -> int | None: ...

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None: ...

    def positions_total(self) -> int | None: ...

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None: ...

    def history_orders_get(
        self,
        date_from: TimeArg | None = None,
        date_to: TimeArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None: ...

    def history_deals_get(
        self,
        date_from: TimeArg | None = None,
        date_to: TimeArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None: ...

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> float | None: ...

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None: ...

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None: ...

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None: ...
