"""The real terminal through the MetaTrader5 module (Windows), fixing at the boundary what bites users.

- The module is imported lazily, so Linux never imports it; every call holds one lock (the module's
  thread safety is undocumented).
- A symbol is `symbol_select`ed before its first use (symbols outside Market Watch return None).
- Platform names map to the broker's (`EURUSD` <-> `EURUSDm`) in arguments, requests and results.
- The broker's server-time offset is removed from every returned time and added to every date argument;
  it is a setting in seconds, or "auto": measured at connect from the latest tick, rounded to 30 minutes,
  and measured again once the market has reopened after each close (brokers follow daylight saving,
  which changes on weekends).
- Date arguments go to the module as UTC-aware datetimes; the filling mode of an order is chosen from the
  symbol's `filling_mode` bitmask (passing the bitmask itself is the classic 10030).
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, TypeVar

import numpy as np

from services.mt5.core.adapters.boundary import (
    SymbolNames,
    choose_filling,
    measure_offset,
    platform_array,
    platform_record,
    platform_records,
    server_datetime,
)
from services.mt5.core.terminal import TimeArg, spec_from_symbol_info
from shared.errors import NotFoundError
from shared.market import mt5_constants as mt5
from shared.market.calendar import FX_CALENDAR
from shared.market.records import (
    RATES_DTYPE,
    TICKS_DTYPE,
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

R = TypeVar("R", bound=NamedTuple)
ServerOffset = int | Literal["auto"]

_NOT_INSTALLED = mt5.LastError.INTERNAL_FAIL_INIT
# A measurement outside the offsets time zones have is a stale tick (Friday's, just after the reopen).
_OFFSET_RANGE_S = (-43_200, 50_400)
# After the reopen, until a fresh tick gives a plausible measurement, ask again at most this often.
_REMEASURE_RETRY_S = 60


class Mt5ModuleTerminal:
    """The Terminal interface over a MetaTrader5-compatible module (the real one, or an rpyc bridge)."""

    module_name = "MetaTrader5"

    def __init__(
        self,
        *,
        module: Any | None = None,
        symbol_suffix: str = "",
        symbol_map: Mapping[str, str] | None = None,
        server_time_offset: ServerOffset = 0,
        probe_symbols: Sequence[str] = ("EURUSD",),
        utc_now: Callable[[], float] = time.time,
    ) -> None:
        if server_time_offset != "auto" and not isinstance(server_time_offset, int):
            raise ValueError("server_time_offset must be whole seconds or 'auto'")
        self._module = module
        self._loaded = module is None  # loaded by us, so reloadable after a lost connection
        self._names = SymbolNames(symbol_suffix, symbol_map)
        self._offset_setting = server_time_offset
        self._offset_s: int | None = server_time_offset if isinstance(server_time_offset, int) else None
        self._remeasure_at_s: float | None = None  # "auto": when to measure again (the next reopen)
        self._probe_symbols = tuple(probe_symbols)
        self._utc_now = utc_now
        self._lock = threading.Lock()
        self._selected: set[str] = set()
        self._filling: dict[str, int] = {}
        self._own_error: tuple[int, str] | None = None

    # ----- plumbing ----------------------------------------------------------------------------------------

    def _load_module(self) -> Any:
        """Import the MetaTrader5 package on first use (it exists only on Windows)."""
        return importlib.import_module(self.module_name)

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """One module call under the lock; None (MT5's failure) when the module cannot be imported."""
        with self._lock:
            if self._module is None:
                try:
                    self._module = self._load_module()
                except (ImportError, OSError) as exc:
                    self._fail(_NOT_INSTALLED, f"cannot load the {self.module_name} module: {exc}")
                    return None
            self._own_error = None
            try:
                return getattr(self._module, name)(*args, **kwargs)
            except (EOFError, OSError) as exc:  # a bridge's connection dropped; reconnect on the next call
                if self._loaded:
                    self._module = None
                self._fail(mt5.RES_E_INTERNAL_FAIL_CONNECT, f"No IPC connection: {exc}")
                return None

    def _fail(self, code: int, message: str) -> None:
        self._own_error = (code, message)

    def _offset(self) -> int | None:
        """The server-time offset in seconds; measured on demand while 'auto' has no measurement yet, and
        again after the market reopened (until then, and while the ticks are stale, the last one holds)."""
        if self._remeasure_at_s is not None and self._utc_now() >= self._remeasure_at_s:
            measured = self._measure_offset()
            if measured is not None:
                self._offset_s = measured
        if self._offset_s is None:
            self._offset_s = self._measure_offset()
            if self._offset_s is None:
                self._fail(
                    mt5.RES_E_FAIL,
                    "server time offset unknown: the market is closed, so 'auto' cannot "
                    "measure it; set mt5.server_time_offset_s",
                )
        return self._offset_s

    def _measure_offset(self) -> int | None:
        """The offset the newest tick implies; None while it cannot tell (market closed, stale ticks)."""
        now = self._utc_now()
        if not FX_CALENDAR.is_open(int(now)):
            return None  # the latest tick is Friday's: it says nothing about the server's clock
        times = [tick.time for tick in (self._raw_tick(s) for s in self._probe_symbols) if tick is not None]
        offset = measure_offset(max(times), now) if times else None
        if offset is None or not _OFFSET_RANGE_S[0] <= offset <= _OFFSET_RANGE_S[1]:
            self._remeasure_at_s = now + _REMEASURE_RETRY_S
            return None
        # Measured: again once the market has closed and reopened (the next session's first second).
        session_end = FX_CALENDAR.open_intervals(int(now), int(now) + 8 * 86_400)[0][1]
        self._remeasure_at_s = FX_CALENDAR.next_open(session_end)
        return offset

    def _raw_tick(self, symbol: str) -> Any:
        broker = self._names.to_broker(symbol)
        return self._call("symbol_info_tick", broker) if self._select(broker) else None

    def _select(self, broker_symbol: str) -> bool:
        if broker_symbol in self._selected:
            return True
        if not self._call("symbol_select", broker_symbol, True):
            return False
        self._selected.add(broker_symbol)
        return True

    def _symbol_call(self, symbol: str, name: str, *args: Any) -> Any:
        broker = self._names.to_broker(symbol)
        return self._call(name, broker, *args) if self._select(broker) else None

    # ----- connection --------------------------------------------------------------------------------------

    def initialize(
        self,
        path: str | None = None,
        *,
        login: int | None = None,
        password: str | None = None,
        server: str | None = None,
        timeout: int = 60_000,
        portable: bool = False,
    ) -> bool:
        """Start or attach to the terminal; credentials are passed through, never kept or logged."""
        credentials = {k: v for k, v in (("login", login), ("password", password), ("server", server)) if v}
        args = (path,) if path else ()
        ok = bool(self._call("initialize", *args, timeout=timeout, portable=portable, **credentials))
        self._selected.clear()
        self._filling.clear()
        if ok and self._offset_setting == "auto":
            # A reconnect while the market is closed cannot measure: the last measurement holds until the
            # reopen (when it is measured again anyway).
            measured = self._measure_offset()
            self._offset_s = measured if measured is not None else self._offset_s
        return ok

    def login(
        self, login: int, *, password: str | None = None, server: str | None = None, timeout: int = 60_000
    ) -> bool:
        extra = {k: v for k, v in (("password", password), ("server", server)) if v}
        return bool(self._call("login", login, timeout=timeout, **extra))

    def shutdown(self) -> None:
        if self._module is not None:
            self._call("shutdown")

    def last_error(self) -> tuple[int, str]:
        if self._own_error is not None:
            return self._own_error
        if self._module is None:
            return (mt5.RES_S_OK, "Success")
        code, message = self._call("last_error")
        return (int(code), self._names.in_message(str(message)))

    def version(self) -> tuple[int, int, str] | None:
        raw = self._call("version")
        return None if raw is None else (int(raw[0]), int(raw[1]), str(raw[2]))

    def account_info(self) -> AccountInfo | None:
        raw = self._call("account_info")
        return None if raw is None else platform_record(self._names, AccountInfo, raw)

    def terminal_info(self) -> TerminalInfo | None:
        raw = self._call("terminal_info")
        return None if raw is None else platform_record(self._names, TerminalInfo, raw)

    # ----- symbols -----------------------------------------------------------------------------------------

    def symbols_total(self) -> int:
        return int(self._call("symbols_total") or 0)

    def symbols_get(self, group: str | None = None) -> tuple[SymbolInfo, ...] | None:
        offset = self._offset()
        if offset is None:
            return None
        raw = (
            self._call("symbols_get")
            if group is None
            else self._call("symbols_get", group=self._names.group_to_broker(group))
        )
        return platform_records(self._names, SymbolInfo, raw, offset)

    def symbol_info(self, symbol: str) -> SymbolInfo | None:
        offset = self._offset()
        raw = None if offset is None else self._symbol_call(symbol, "symbol_info")
        return None if raw is None else platform_record(self._names, SymbolInfo, raw, offset or 0)

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        offset = self._offset()
        raw = None if offset is None else self._symbol_call(symbol, "symbol_info_tick")
        return None if raw is None else platform_record(self._names, Tick, raw, offset or 0)

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        broker = self._names.to_broker(symbol)
        ok = bool(self._call("symbol_select", broker, enable))
        (self._selected.add if ok and enable else self._selected.discard)(broker)
        return ok

    def symbol_spec(self, symbol: str) -> SymbolSpec:
        info = self.symbol_info(symbol)
        if info is None:
            raise NotFoundError(
                f"unknown symbol {symbol!r}", code="unknown_symbol", details={"symbol": symbol}
            )
        return spec_from_symbol_info(info)

    # ----- market data -------------------------------------------------------------------------------------

    def copy_rates_from(
        self, symbol: str, timeframe: int, date_from: TimeArg, count: int
    ) -> np.ndarray | None:
        return self._series(
            RATES_DTYPE,
            symbol,
            "copy_rates_from",
            lambda off: (timeframe, server_datetime(date_from, off), count),
        )

    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> np.ndarray | None:
        return self._series(
            RATES_DTYPE, symbol, "copy_rates_from_pos", lambda off: (timeframe, start_pos, count)
        )

    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: TimeArg, date_to: TimeArg
    ) -> np.ndarray | None:
        return self._series(
            RATES_DTYPE,
            symbol,
            "copy_rates_range",
            lambda off: (timeframe, server_datetime(date_from, off), server_datetime(date_to, off)),
        )

    def copy_ticks_from(self, symbol: str, date_from: TimeArg, count: int, flags: int) -> np.ndarray | None:
        return self._series(
            TICKS_DTYPE,
            symbol,
            "copy_ticks_from",
            lambda off: (server_datetime(date_from, off), count, flags),
        )

    def copy_ticks_range(
        self, symbol: str, date_from: TimeArg, date_to: TimeArg, flags: int
    ) -> np.ndarray | None:
        return self._series(
            TICKS_DTYPE,
            symbol,
            "copy_ticks_range",
            lambda off: (server_datetime(date_from, off), server_datetime(date_to, off), flags),
        )

    def _series(
        self, dtype: np.dtype, symbol: str, name: str, arguments: Callable[[int], tuple[Any, ...]]
    ) -> np.ndarray | None:
        offset = self._offset()
        if offset is None:
            return None
        try:
            args = arguments(offset)
        except (TypeError, ValueError) as exc:
            self._fail(mt5.RES_E_INVALID_PARAMS, f"Invalid arguments: {exc}")
            return None
        return platform_array(self._symbol_call(symbol, name, *args), dtype, offset)

    # ----- trading -----------------------------------------------------------------------------------------

    def orders_total(self) -> int | None:
        return self._call("orders_total")

    def orders_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradeOrder, ...] | None:
        return self._open_records(TradeOrder, "orders_get", symbol, group, ticket)

    def positions_total(self) -> int | None:
        return self._call("positions_total")

    def positions_get(
        self, *, symbol: str | None = None, group: str | None = None, ticket: int | None = None
    ) -> tuple[TradePosition, ...] | None:
        return self._open_records(TradePosition, "positions_get", symbol, group, ticket)

    def _open_records(
        self, cls: type[R], name: str, symbol: str | None, group: str | None, ticket: int | None
    ) -> tuple[R, ...] | None:
        offset = self._offset()
        if offset is None:
            return None
        if symbol is not None:
            raw = self._call(name, symbol=self._names.to_broker(symbol))
        elif group is not None:
            raw = self._call(name, group=self._names.group_to_broker(group))
        elif ticket is not None:
            raw = self._call(name, ticket=ticket)
        else:
            raw = self._call(name)
        return platform_records(self._names, cls, raw, offset)

    def history_orders_get(
        self,
        date_from: TimeArg | None = None,
        date_to: TimeArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeOrder, ...] | None:
        return self._history(TradeOrder, "history_orders_get", date_from, date_to, group, ticket, position)

    def history_deals_get(
        self,
        date_from: TimeArg | None = None,
        date_to: TimeArg | None = None,
        *,
        group: str | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> tuple[TradeDeal, ...] | None:
        return self._history(TradeDeal, "history_deals_get", date_from, date_to, group, ticket, position)

    def _history(
        self,
        cls: type[R],
        name: str,
        date_from: TimeArg | None,
        date_to: TimeArg | None,
        group: str | None,
        ticket: int | None,
        position: int | None,
    ) -> tuple[R, ...] | None:
        """MT5 takes either a date range (with an optional group) or a ticket, or a position id."""
        offset = self._offset()
        if offset is None:
            return None
        if ticket is not None:
            return platform_records(self._names, cls, self._call(name, ticket=ticket), offset)
        if position is not None:
            return platform_records(self._names, cls, self._call(name, position=position), offset)
        try:
            start = server_datetime(date_from if date_from is not None else 0, offset)
            end = server_datetime(date_to if date_to is not None else self._utc_now() + 86_400, offset)
        except (TypeError, ValueError) as exc:
            self._fail(mt5.RES_E_INVALID_PARAMS, f"Invalid arguments: {exc}")
            return None
        extra = {"group": self._names.group_to_broker(group)} if group is not None else {}
        return platform_records(self._names, cls, self._call(name, start, end, **extra), offset)

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> float | None:
        return self._symbol_call_args("order_calc_margin", action, symbol, volume, price)

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        return self._symbol_call_args("order_calc_profit", action, symbol, volume, price_open, price_close)

    def _symbol_call_args(self, name: str, action: int, symbol: str, *rest: float) -> float | None:
        broker = self._names.to_broker(symbol)
        return self._call(name, action, broker, *rest) if self._select(broker) else None

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        prepared = self._prepare_request(request)
        raw = None if prepared is None else self._call("order_check", prepared)
        return None if raw is None else platform_record(self._names, OrderCheckResult, raw)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        prepared = self._prepare_request(request)
        raw = None if prepared is None else self._call("order_send", prepared)
        return None if raw is None else platform_record(self._names, OrderSendResult, raw)

    def _prepare_request(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The request in broker terms: broker symbol, server-time expiration, an allowed filling mode."""
        prepared = dict(request)
        symbol = prepared.get("symbol")
        if symbol:
            broker = self._names.to_broker(symbol)
            if not self._select(broker):
                return None
            prepared["symbol"] = broker
            if prepared.get("action") in (mt5.TRADE_ACTION_DEAL, mt5.TRADE_ACTION_PENDING):
                mask = self._filling_mode(broker)
                if mask is None:
                    return None
                prepared["type_filling"] = choose_filling(mask, prepared.get("type_filling"))
        if prepared.get("expiration"):
            offset = self._offset()
            if offset is None:
                return None
            prepared["expiration"] = int(prepared["expiration"]) + offset
        return prepared

    def _filling_mode(self, broker_symbol: str) -> int | None:
        if broker_symbol not in self._filling:
            info = self._call("symbol_info", broker_symbol)
            if info is None:
                return None
            self._filling[broker_symbol] = int(info.filling_mode)
        return self._filling[broker_symbol]
