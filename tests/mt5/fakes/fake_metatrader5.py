"""A strict stand-in for the Windows-only MetaTrader5 module, per shared/reference/MT5_API.md.

Strict where the real module bites, so an adapter's calls are checked rather than assumed:
- the filtered getters take keyword arguments only (positional -> None, last_error -2);
- a symbol is unknown to every call until `symbol_select(symbol, True)`;
- date arguments must be UTC-aware datetimes or epoch numbers (naive -> None, last_error -2);
- every returned time is the broker's server time (UTC + `server_offset_s`), as many brokers do;
- symbols carry the broker's suffix (EURUSDm), and `type_filling` must be allowed by the symbol's
  filling_mode bitmask, or order_send answers 10030;
- request values must be plain int/float/str (a Decimal fails);
- a new deal needs margin (1:100 on the ask) within the balance, or order_check/order_send answer 10019;
- every call fails with -10004 until initialize(), and while `reachable` is False (terminal gone);
  `connected = False` is a terminal that runs but has lost its trade server.
Market data comes from the platform's deterministic market, so tests know the UTC truth.
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import numpy as np

from services.mt5.core.simulated.broker import matches_group
from services.mt5.core.simulated.market import DeterministicMarket
from shared.market import mt5_constants
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
    trade_request_from_dict,
)
from shared.market.symbols import DEFAULT_SYMBOLS, SymbolSpec
from shared.market.timeframes import TIMEFRAMES, TIMEFRAMES_BY_CODE

# The real SymbolInfo has 96 fields; a few extra ones up front check that adapters pick ours by name.
FullSymbolInfo = collections.namedtuple("FullSymbolInfo", ("custom", "chart_mode", *SymbolInfo._fields))

_INVALID = (mt5_constants.RES_E_INVALID_PARAMS, "Invalid arguments")
_NO_IPC = (mt5_constants.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
_COMMENTS = {
    0: "Done",
    mt5_constants.TRADE_RETCODE_INVALID_FILL: "Unsupported filling mode",
    mt5_constants.TRADE_RETCODE_NO_MONEY: "No money",
}


class FakeMetaTrader5:
    """One terminal, one account. Attributes mirror the module's functions and constants."""

    def __init__(
        self,
        *,
        now_ms: Callable[[], int],
        symbols: Sequence[SymbolSpec] = DEFAULT_SYMBOLS,
        suffix: str = "m",
        server_offset_s: int = 7200,
        filling_modes: Mapping[str, int] | None = None,
        seed: int = 3,
    ) -> None:
        for name in dir(mt5_constants):
            if name.isupper():
                setattr(self, name, getattr(mt5_constants, name))
        for tf in TIMEFRAMES.values():
            setattr(self, f"TIMEFRAME_{tf.name}", tf.code)
        self.market = DeterministicMarket(symbols, seed=seed)
        self.specs = {s.name + suffix: s for s in symbols}
        self.filling_modes = {s.name + suffix: s.filling_mode for s in symbols} | dict(filling_modes or {})
        self.offset_s = server_offset_s
        self.balance = 1000.0
        self.now_ms = now_ms
        self.initialized = False
        self.reachable = True
        self.connected = True
        self.selected: set[str] = set()
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.on_call: Callable[[str], None] | None = None
        self.positions: dict[int, TradePosition] = {}
        self.orders: dict[int, TradeOrder] = {}
        self.deals: list[TradeDeal] = []
        self.history_orders: list[TradeOrder] = []  # market orders, filled at once
        self._tickets = itertools.count(5_000_001)
        self._error: tuple[int, str] = (1, "Success")

    # ----- plumbing ----------------------------------------------------------------------------------------

    def _enter(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        self.calls.append((name, args, kwargs))
        if self.on_call is not None:
            self.on_call(name)
        if not (self.initialized and self.reachable):
            self._error = _NO_IPC
            return False
        self._error = (1, "Success")
        return True

    def _fail(self, error: tuple[int, str]) -> None:
        self._error = error

    def _spec(self, symbol: Any) -> SymbolSpec | None:
        if symbol not in self.specs or symbol not in self.selected:
            self._fail((mt5_constants.RES_E_NOT_FOUND, f"Symbol {symbol!r} not found or not selected"))
            return None
        return self.specs[symbol]

    def _utc_ms(self, value: Any) -> int | None:
        """A date argument in server time -> UTC ms; naive datetimes and other types are refused."""
        if isinstance(value, datetime):
            if value.tzinfo is None:
                self._fail((mt5_constants.RES_E_INVALID_PARAMS, "naive datetime (would be local time)"))
                return None
            seconds = value.timestamp()
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = float(value)
        else:
            self._fail(_INVALID)
            return None
        return round((seconds - self.offset_s) * 1000)

    def _server(self, array: np.ndarray) -> np.ndarray:
        array = array.copy()
        array["time"] += self.offset_s
        if "time_msc" in (array.dtype.names or ()):
            array["time_msc"] += self.offset_s * 1000
        return array

    def _tick(self, symbol: str) -> Tick:
        row = self.market.last_tick(self.specs[symbol].name, self.now_ms() + 1)
        tick = Tick(*row.item())
        return tick._replace(time=tick.time + self.offset_s, time_msc=tick.time_msc + self.offset_s * 1000)

    # ----- connection --------------------------------------------------------------------------------------

    def initialize(self, *args: Any, **kwargs: Any) -> bool:
        self.calls.append(("initialize", args, kwargs))
        allowed = {"login", "password", "server", "timeout", "portable"}
        if len(args) > 1 or set(kwargs) - allowed:
            self._fail(_INVALID)
            return False
        if not self.reachable:
            self._fail(
                (
                    mt5_constants.LastError.INTERNAL_FAIL_INIT,
                    "IPC initialize failed, MetaTrader 5 x64 not found",
                )
            )
            return False
        self.initialized = True
        self._error = (1, "Success")
        return True

    def login(
        self, login: int, *, password: str | None = None, server: str | None = None, timeout: int = 60_000
    ) -> bool:
        return self._enter("login", (login,), {"server": server})

    def shutdown(self) -> None:
        self.calls.append(("shutdown", (), {}))
        self.initialized = False

    def last_error(self) -> tuple[int, str]:
        return self._error

    def version(self) -> tuple[int, int, str] | None:
        return (500, 4755, "13 Nov 2025") if self._enter("version", (), {}) else None

    def account_info(self) -> AccountInfo | None:
        if not self._enter("account_info", (), {}):
            return None
        return AccountInfo(
            login=7001,
            trade_mode=0,
            leverage=100,
            limit_orders=200,
            margin_so_mode=0,
            trade_allowed=True,
            trade_expert=True,
            margin_mode=2,
            currency_digits=2,
            fifo_close=False,
            balance=self.balance,
            credit=0.0,
            profit=0.0,
            equity=self.balance,
            margin=0.0,
            margin_free=self.balance,
            margin_level=0.0,
            margin_so_call=50.0,
            margin_so_so=30.0,
            margin_initial=0.0,
            margin_maintenance=0.0,
            assets=0.0,
            liabilities=0.0,
            commission_blocked=0.0,
            name="Adam",
            server="Demo-Server",
            currency="USD",
            company="Fake Broker",
        )

    def terminal_info(self) -> TerminalInfo | None:
        if not self._enter("terminal_info", (), {}):
            return None
        return TerminalInfo(
            False,
            False,
            self.connected,
            False,
            True,
            False,
            False,
            False,
            False,
            False,
            4755,
            100_000,
            0,
            30,
            0.0,
            0.0,
            "Fake Broker",
            "MetaTrader 5",
            "English",
            "C:\\MT5",
            "C:\\MT5\\data",
            "C:\\common",
        )

    # ----- symbols -----------------------------------------------------------------------------------------

    def symbols_total(self) -> int:
        return len(self.specs) if self._enter("symbols_total", (), {}) else 0

    def symbols_get(self, *args: Any, group: str | None = None) -> tuple[FullSymbolInfo, ...] | None:
        if not self._enter("symbols_get", args, {"group": group}):
            return None
        if args:
            self._fail((mt5_constants.RES_E_INVALID_PARAMS, "Unnamed arguments not allowed"))
            return None
        return tuple(self._symbol_info(s) for s in self.specs if group is None or matches_group(s, group))

    def symbol_select(self, symbol: str, enable: bool = True) -> bool:
        if not self._enter("symbol_select", (symbol, enable), {}):
            return False
        if symbol not in self.specs:
            self._fail((mt5_constants.RES_E_NOT_FOUND, f"Symbol {symbol!r} not found"))
            return False
        (self.selected.add if enable else self.selected.discard)(symbol)
        return True

    def symbol_info(self, symbol: str) -> FullSymbolInfo | None:
        if not self._enter("symbol_info", (symbol,), {}) or self._spec(symbol) is None:
            return None
        return self._symbol_info(symbol)

    def _symbol_info(self, symbol: str) -> FullSymbolInfo:
        s, tick = self.specs[symbol], self._tick(symbol)
        return FullSymbolInfo(
            False,
            0,
            symbol,
            s.description,
            s.path,
            s.digits,
            s.point,
            s.spread_points,
            True,
            s.contract_size,
            1.0,
            s.trade_tick_size,
            s.volume_min,
            s.volume_max,
            s.volume_step,
            s.stops_level,
            0,
            s.trade_mode,
            2,
            self.filling_modes[symbol],
            127,
            15,
            s.swap_long,
            s.swap_short,
            s.currency_base,
            s.currency_profit,
            s.currency_margin,
            tick.bid,
            tick.ask,
            0.0,
            tick.time,
            True,
            symbol in self.selected,
        )

    def symbol_info_tick(self, symbol: str) -> Tick | None:
        if not self._enter("symbol_info_tick", (symbol,), {}) or self._spec(symbol) is None:
            return None
        return self._tick(symbol)

    # ----- market data -------------------------------------------------------------------------------------

    def copy_rates_from(self, symbol: str, timeframe: int, date_from: Any, count: int) -> np.ndarray | None:
        if not self._enter("copy_rates_from", (symbol, timeframe, date_from, count), {}):
            return None
        spec, tf, end = self._spec(symbol), TIMEFRAMES_BY_CODE.get(timeframe), self._utc_ms(date_from)
        if spec is None or tf is None or end is None:
            return None
        return self._server(self.market.rates_back(spec.name, tf, end // 1000, count, self.now_ms() + 1))

    def copy_rates_from_pos(
        self, symbol: str, timeframe: int, start_pos: int, count: int
    ) -> np.ndarray | None:
        if not self._enter("copy_rates_from_pos", (symbol, timeframe, start_pos, count), {}):
            return None
        spec, tf, now = self._spec(symbol), TIMEFRAMES_BY_CODE.get(timeframe), self.now_ms()
        if spec is None or tf is None:
            return None
        return self._server(
            self.market.rates_back(spec.name, tf, now // 1000, count, now + 1, skip=start_pos)
        )

    def copy_rates_range(
        self, symbol: str, timeframe: int, date_from: Any, date_to: Any
    ) -> np.ndarray | None:
        if not self._enter("copy_rates_range", (symbol, timeframe, date_from, date_to), {}):
            return None
        spec, tf = self._spec(symbol), TIMEFRAMES_BY_CODE.get(timeframe)
        start, end = self._utc_ms(date_from), self._utc_ms(date_to)
        if spec is None or tf is None or start is None or end is None:
            return None
        return self._server(
            self.market.rates_range(spec.name, tf, start // 1000, end // 1000, self.now_ms() + 1)
        )

    def copy_ticks_from(self, symbol: str, date_from: Any, count: int, flags: int) -> np.ndarray | None:
        if not self._enter("copy_ticks_from", (symbol, date_from, count, flags), {}):
            return None
        spec, start = self._spec(symbol), self._utc_ms(date_from)
        if spec is None or start is None:
            return None
        return self._server(self.market.ticks_forward(spec.name, start, count, self.now_ms() + 1))

    def copy_ticks_range(self, symbol: str, date_from: Any, date_to: Any, flags: int) -> np.ndarray | None:
        if not self._enter("copy_ticks_range", (symbol, date_from, date_to, flags), {}):
            return None
        spec, start, end = self._spec(symbol), self._utc_ms(date_from), self._utc_ms(date_to)
        if spec is None or start is None or end is None:
            return None
        return self._server(self.market.ticks(spec.name, start, min(end, self.now_ms()) + 1))

    # ----- trading -----------------------------------------------------------------------------------------

    def orders_total(self) -> int | None:
        return len(self.orders) if self._enter("orders_total", (), {}) else None

    def positions_total(self) -> int | None:
        return len(self.positions) if self._enter("positions_total", (), {}) else None

    def orders_get(self, *args: Any, **filters: Any) -> tuple[TradeOrder, ...] | None:
        return self._filtered("orders_get", self.orders.values(), args, filters)

    def positions_get(self, *args: Any, **filters: Any) -> tuple[TradePosition, ...] | None:
        return self._filtered("positions_get", self.positions.values(), args, filters)

    def _filtered(self, name: str, records: Any, args: tuple[Any, ...], filters: dict[str, Any]) -> Any:
        if not self._enter(name, args, filters):
            return None
        if args or set(filters) - {"symbol", "group", "ticket"} or len(filters) > 1:
            self._fail((mt5_constants.RES_E_INVALID_PARAMS, "Unnamed arguments not allowed"))
            return None
        symbol, group, ticket = filters.get("symbol"), filters.get("group"), filters.get("ticket")
        return tuple(
            r
            for r in records
            if (symbol is None or r.symbol == symbol)
            and (ticket is None or r.ticket == ticket)
            and (group is None or matches_group(r.symbol, group))
        )

    def history_orders_get(self, *args: Any, **kwargs: Any) -> tuple[TradeOrder, ...] | None:
        return self._history("history_orders_get", self.history_orders, args, kwargs, "time_setup")

    def history_deals_get(self, *args: Any, **kwargs: Any) -> tuple[TradeDeal, ...] | None:
        return self._history("history_deals_get", self.deals, args, kwargs, "time")

    def _history(
        self, name: str, records: list[Any], args: tuple[Any, ...], kwargs: dict[str, Any], time_field: str
    ) -> Any:
        """(date_from, date_to[, group=]) or (ticket=) or (position=), as MT5 documents."""
        if not self._enter(name, args, kwargs):
            return None
        if "ticket" in kwargs or "position" in kwargs:
            if args or len(kwargs) != 1:
                self._fail(_INVALID)
                return None
            key, value = next(iter(kwargs.items()))
            field = (
                {"ticket": "order", "position": "position_id"}[key]
                if name == "history_deals_get"
                else ({"ticket": "ticket", "position": "position_id"}[key])
            )
            return tuple(r for r in records if getattr(r, field) == value)
        if len(args) != 2 or set(kwargs) - {"group"}:
            self._fail(_INVALID)
            return None
        start, end = self._utc_ms(args[0]), self._utc_ms(args[1])
        if start is None or end is None:
            return None
        group = kwargs.get("group")
        low, high = start // 1000 + self.offset_s, end // 1000 + self.offset_s
        return tuple(
            r
            for r in records
            if low <= getattr(r, time_field) <= high and (group is None or matches_group(r.symbol, group))
        )

    def order_calc_margin(self, action: int, symbol: str, volume: float, price: float) -> float | None:
        if not self._enter("order_calc_margin", (action, symbol, volume, price), {}):
            return None
        spec = self._spec(symbol)
        return None if spec is None else round(volume * spec.contract_size * price / 100, 2)

    def order_calc_profit(
        self, action: int, symbol: str, volume: float, price_open: float, price_close: float
    ) -> float | None:
        if not self._enter("order_calc_profit", (action, symbol, volume, price_open, price_close), {}):
            return None
        spec = self._spec(symbol)
        sign = 1 if action == mt5_constants.ORDER_TYPE_BUY else -1
        return (
            None
            if spec is None
            else round(sign * (price_close - price_open) * volume * spec.contract_size, 2)
        )

    def order_check(self, request: dict[str, Any]) -> OrderCheckResult | None:
        if not self._enter("order_check", (request,), {}):
            return None
        retcode = self._refusal(request)
        if retcode is None:
            return None
        margin = self._margin(request)
        return OrderCheckResult(
            retcode,
            self.balance,
            self.balance,
            0.0,
            margin,
            self.balance - margin,
            round(self.balance / margin * 100, 2) if margin else 0.0,
            _COMMENTS[retcode],
            trade_request_from_dict(request),
        )

    def _margin(self, request: dict[str, Any]) -> float:
        """What a new deal would take in USD at 1:100; closing, modifying and deleting take none."""
        if request.get("action") != mt5_constants.TRADE_ACTION_DEAL or request.get("position"):
            return 0.0
        spec = self.specs[request["symbol"]]
        # The base currency's value in USD: 1 for USDxxx, else the quote of a xxxUSD pair.
        rate = 1.0 if spec.currency_base == "USD" else self._tick(request["symbol"]).ask
        return round(request["volume"] * spec.contract_size * rate / 100, 2)

    def order_send(self, request: dict[str, Any]) -> OrderSendResult | None:
        if not self._enter("order_send", (request,), {}):
            return None
        retcode = self._refusal(request)
        if retcode is None:
            return None
        echo = trade_request_from_dict(request)
        if retcode:
            return OrderSendResult(retcode, 0, 0, 0.0, 0.0, 0.0, 0.0, _COMMENTS[retcode], 1, 0, echo)
        tick = self._tick(request["symbol"])
        order = next(self._tickets)
        if request["action"] == mt5_constants.TRADE_ACTION_PENDING:
            self.orders[order] = TradeOrder(
                order,
                tick.time,
                tick.time_msc,
                0,
                0,
                int(request.get("expiration", 0)),
                request["type"],
                request.get("type_time", 0),
                request["type_filling"],
                mt5_constants.ORDER_STATE_PLACED,
                0,
                0,
                0,
                3,
                request["volume"],
                request["volume"],
                request["price"],
                0.0,
                0.0,
                tick.bid,
                0.0,
                request["symbol"],
                "",
                "",
            )
            return OrderSendResult(
                10008, 0, order, request["volume"], request["price"], tick.bid, tick.ask, "placed", 1, 0, echo
            )
        buying = request["type"] == mt5_constants.ORDER_TYPE_BUY
        price = tick.ask if buying else tick.bid
        closing = self.positions.pop(request["position"], None) if request.get("position") else None
        position_id = closing.ticket if closing else order
        if closing is None:
            self.positions[order] = TradePosition(
                order,
                tick.time,
                tick.time_msc,
                tick.time,
                tick.time_msc,
                0 if buying else 1,
                0,
                order,
                3,
                request["volume"],
                price,
                0.0,
                0.0,
                price,
                0.0,
                0.0,
                request["symbol"],
                "",
                "",
            )
        deal = next(self._tickets)
        self.deals.append(
            TradeDeal(
                deal,
                order,
                tick.time,
                tick.time_msc,
                0 if buying else 1,
                1 if closing else 0,
                0,
                position_id,
                3,
                request["volume"],
                price,
                0.0,
                0.0,
                0.0,
                0.0,
                request["symbol"],
                "",
                "",
            )
        )
        self.history_orders.append(
            TradeOrder(
                order,
                tick.time,
                tick.time_msc,
                tick.time,
                tick.time_msc,
                0,
                request["type"],
                0,
                request["type_filling"],
                mt5_constants.ORDER_STATE_FILLED,
                0,
                position_id,
                0,
                3,
                request["volume"],
                0.0,
                price,
                0.0,
                0.0,
                price,
                0.0,
                request["symbol"],
                "",
                "",
            )
        )
        return OrderSendResult(
            10009, deal, order, request["volume"], price, tick.bid, tick.ask, "done", 1, 0, echo
        )

    def close_in_terminal(self, ticket: int, reason: int) -> TradeDeal:
        """The server or the terminal's user closes a position (SL, TP, stop-out, by hand): no call of the
        module's does it, only the position gone and a closing deal in the history say so."""
        position = self.positions.pop(ticket)
        tick = self._tick(position.symbol)
        buy = position.type == mt5_constants.POSITION_TYPE_BUY
        price = tick.bid if buy else tick.ask
        spec = self.specs[position.symbol]
        profit = round(
            (price - position.price_open) * (1 if buy else -1) * position.volume * spec.contract_size, 2
        )
        deal = TradeDeal(
            next(self._tickets),
            next(self._tickets),
            tick.time,
            tick.time_msc,
            mt5_constants.DEAL_TYPE_SELL if buy else mt5_constants.DEAL_TYPE_BUY,
            mt5_constants.DEAL_ENTRY_OUT,
            position.magic,
            position.ticket,
            reason,
            position.volume,
            price,
            0.0,
            0.0,
            profit,
            0.0,
            position.symbol,
            "[sl]" if reason == mt5_constants.DEAL_REASON_SL else "",
            "",
        )
        self.deals.append(deal)
        return deal

    def _refusal(self, request: Any) -> int | None:
        """None (with last_error) for a malformed request; 10030 for a filling the symbol forbids; else 0."""
        if not isinstance(request, dict) or any(
            not isinstance(v, int | float | str) for v in request.values()
        ):
            self._fail((mt5_constants.RES_E_INVALID_PARAMS, "Invalid request field type"))
            return None
        if self._spec(request.get("symbol")) is None:
            return None
        mask = self.filling_modes[request["symbol"]]
        allowed = {mode for mode, bit in ((0, 1), (1, 2)) if mask & bit} or {
            mt5_constants.ORDER_FILLING_RETURN
        }
        if request.get("type_filling", 0) not in allowed:
            return mt5_constants.TRADE_RETCODE_INVALID_FILL
        if self._margin(request) > self.balance:
            return mt5_constants.TRADE_RETCODE_NO_MONEY
        return 0
