"""Bars and symbol facts from the other services, checked before a job is created.

Bars come from the data service (`/completeness` first, so incomplete history is refused with the missing
ranges named, then `/ohlc`); its `to` is inclusive, as ours. Symbol facts come from the
mt5 service's `/symbols/{symbol}`; when the mt5 service is not reachable, the built-in specification of a
configured symbol is used (its tick value then assumes the profit currency is the account currency), so
backtests do not need a terminal. The account's leverage (the default of a request that gives none) comes
from the mt5 service's `/account`; when it cannot be read, the caller falls back to its configured default.
The market's now comes from the mt5 service's `/clock` (a replay's is not the wall's); when it cannot be
read, the last reading runs on, or the wall clock before any.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from services.backtesting.core.config import SymbolFacts, TickAccount
from services.backtesting.core.portfolio_money import Currencies
from shared.contracts.data import DataClient
from shared.contracts.mt5 import Mt5Client
from shared.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PlatformError,
    ServiceUnavailableError,
    UpstreamTimeoutError,
)
from shared.market.bar_input import BAR_COLUMNS
from shared.market.clock import MarketClock
from shared.market.symbols import DEFAULT_SYMBOLS, SymbolSpec

_DEFAULT_SPECS = {spec.name: spec for spec in DEFAULT_SYMBOLS}
MAX_LEVERAGE = 1000.0  # the most a run accepts (core.requests.RunInput.leverage)
_MISSING_NAMED = 5  # missing ranges spelled out in the message; all of them are in the details


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def facts_from_mt5(info: dict[str, Any]) -> SymbolFacts:
    """SymbolFacts from an MT5 `symbol_info` record (tick value already in account currency)."""
    return SymbolFacts(
        point=info["point"],
        tick_size=info["trade_tick_size"],
        tick_value=info["trade_tick_value"],
        volume_min=info["volume_min"],
        volume_step=info["volume_step"],
        volume_max=info["volume_max"],
    )


def missing_ranges_message(symbol: str, timeframe: str, missing: Sequence[Sequence[int]]) -> str:
    """'history of EURUSD M1 is incomplete: missing 2024-01-02T00:00:00Z..2024-01-02T06:00:00Z, ...'."""
    named = ", ".join(f"{_iso(int(a))}..{_iso(int(b))}" for a, b in missing[:_MISSING_NAMED])
    more = f" and {len(missing) - _MISSING_NAMED} more" if len(missing) > _MISSING_NAMED else ""
    return (
        f"history of {symbol} {timeframe} is incomplete: missing {named}{more} "
        "(fill the gaps with POST /gap-fill on the data service, or send allow_gaps=true)"
    )


_TICK_COLUMNS = ("time_msc", "bid", "ask")


def _columns_of(ticks: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns a tick model runs on, copied out of a TICKS_DTYPE chunk (so the chunk can go)."""
    return (ticks["time_msc"].copy(), ticks["bid"].copy(), ticks["ask"].copy())


class RunMarket:
    """The data and mt5 services as seen by the backtesting service."""

    def __init__(self, data: DataClient, mt5: Mt5Client, symbols: Sequence[str]) -> None:
        self._data = data
        self._mt5 = mt5
        self._symbols = frozenset(symbols)
        self._clock = MarketClock()

    async def aclose(self) -> None:
        await self._data.aclose()
        await self._mt5.aclose()

    async def symbol_facts(self, symbol: str) -> SymbolFacts:
        """The symbol's facts from mt5, else the built-in spec of a configured symbol; 404 unknown_symbol."""
        try:
            return facts_from_mt5(await self._mt5.symbol_info(symbol))
        except (ServiceUnavailableError, UpstreamTimeoutError):
            return SymbolFacts.from_spec(self._builtin(symbol))

    async def symbol_currencies(self, symbol: str) -> Currencies:
        """The symbol's currencies and contract size, from mt5 or the built-in spec, as `symbol_facts`."""
        try:
            info = await self._mt5.symbol_info(symbol)
        except (ServiceUnavailableError, UpstreamTimeoutError):
            spec = self._builtin(symbol)
            return Currencies(
                base=spec.currency_base,
                profit=spec.currency_profit,
                margin=spec.currency_margin,
                contract_size=spec.contract_size,
            )
        return Currencies(
            base=info["currency_base"],
            profit=info["currency_profit"],
            margin=info["currency_margin"],
            contract_size=info["trade_contract_size"],
        )

    async def converter_symbol(self, from_ccy: str, to_ccy: str) -> tuple[str, Currencies] | None:
        """A configured symbol whose bid converts between the two currencies (as the paper broker finds
        one), with its currencies; None when none does."""
        for name in sorted(self._symbols):
            try:
                currencies = await self.symbol_currencies(name)
            except NotFoundError:
                continue
            if {currencies.base, currencies.profit} == {from_ccy, to_ccy}:
                return name, currencies
        return None

    def _builtin(self, symbol: str) -> SymbolSpec:
        """The built-in spec of a configured symbol, for when the mt5 service is not reachable."""
        spec = _DEFAULT_SPECS.get(symbol)
        if spec is None or symbol not in self._symbols:
            raise NotFoundError(
                f"unknown symbol {symbol!r} (the mt5 service is not reachable; configured symbols with "
                f"built-in facts: {', '.join(sorted(self._symbols & set(_DEFAULT_SPECS)))})",
                code="unknown_symbol",
                details={"symbol": symbol},
            ) from None
        return spec

    async def tick_account(
        self, symbol: str, *, sl_points: float | None, tp_points: float | None
    ) -> TickAccount:
        """How the paper account books `symbol` (contract, currencies, stops level; the account's currency and
        stop-out level), from the mt5 service, else the built-in spec in a USD account stopped out at 50 %.
        Refuses a symbol whose profit or margin converts through another symbol's quote: the tick models
        value a run with the symbol's own quotes only."""
        try:
            info = await self._mt5.symbol_info(symbol)
            account = await self._mt5.account()
            contract, stops = float(info["trade_contract_size"]), int(info["trade_stops_level"])
            base, profit, margin = info["currency_base"], info["currency_profit"], info["currency_margin"]
            currency, stop_out = str(account["currency"]), float(account["margin_so_so"])
        except (ServiceUnavailableError, UpstreamTimeoutError, NotFoundError):
            spec = _DEFAULT_SPECS.get(symbol)
            if spec is None:
                raise
            contract, stops = spec.contract_size, spec.stops_level
            base, profit, margin = spec.currency_base, spec.currency_profit, spec.currency_margin
            currency, stop_out = "USD", 50.0
        via_bid = profit != currency and base == currency
        if (profit != currency and not via_bid) or (margin != base and margin != currency):
            raise InvalidInputError(
                f"{symbol} converts its profit or margin ({profit}, {margin}) to {currency} through another "
                "symbol's quotes, which the tick models do not read; use model bars",
                code="unsupported_symbol",
                details={"field": "model", "symbol": symbol, "account_currency": currency},
            )
        return TickAccount(
            contract_size=contract,
            profit_via_bid=via_bid,
            margin_uses_price=margin != base or margin != currency,
            stop_out_level=stop_out,
            stops_level=stops,
            sl_points=sl_points,
            tp_points=tp_points,
        )

    async def market_now_ms(self) -> int:
        """The market's current time (epoch ms), read from the mt5 service's clock now."""
        await self._clock.refresh(self._mt5)
        return self._clock.now_ms()

    async def account_leverage(self) -> float | None:
        """The mt5 service's account leverage; None when it cannot be read (service down, no account) or is
        outside what a run accepts (1..1000)."""
        try:
            account = await self._mt5.account()
        except PlatformError:
            return None
        leverage = account.get("leverage") if isinstance(account, dict) else None
        if isinstance(leverage, bool) or not isinstance(leverage, int | float):
            return None
        return float(leverage) if 0 < leverage <= MAX_LEVERAGE else None

    async def ticks(
        self, symbol: str, from_ms: int, to_ms: int, *, max_ticks: int, chunk: int
    ) -> dict[str, np.ndarray]:
        """Stored ticks in [from_ms, to_ms] as time_msc, bid and ask columns (only those are kept of each
        chunk, 24 bytes a tick), read `chunk` at a time (a chunk ends
        before its last millisecond, which the next read starts with, so ticks sharing it stay together);
        ConflictError(no_ticks) naming the range when there are none, InvalidInputError(too_many_ticks)
        past `max_ticks`."""
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        count, start = 0, from_ms
        while True:
            part = await self._data.ticks(symbol, start, to_ms, limit=chunk)
            if len(part) < chunk:
                parts.append(_columns_of(part))
                count += len(part)
                break
            last = int(part["time_msc"][-1])
            if last == start:  # one millisecond holds a whole chunk: no way to page past it
                raise InvalidInputError(
                    f"more than {chunk} ticks share {symbol}'s millisecond {last} (backtesting.tick_chunk)",
                    code="too_many_ticks",
                    details={"symbol": symbol, "time_msc": last, "tick_chunk": chunk},
                )
            part = part[part["time_msc"] < last]
            parts.append(_columns_of(part))
            count += len(part)
            start = last
            if count > max_ticks:
                break
        if count > max_ticks:
            raise InvalidInputError(
                f"{symbol} holds more than {max_ticks:,} ticks in {_iso(from_ms // 1000)}..{_iso(to_ms // 1000)}, "
                "the most one run reads (backtesting.max_ticks); shorten the range",
                code="too_many_ticks",
                details={"symbol": symbol, "from": from_ms, "to": to_ms, "max_ticks": max_ticks},
            )
        if count == 0:
            raise ConflictError(
                f"no stored {symbol} ticks in {_iso(from_ms // 1000)}..{_iso(to_ms // 1000)}: the ticks model "
                "runs on the data service's ticks (collect or gap-fill them first), or use model m1_ohlc",
                code="no_ticks",
                details={"symbol": symbol, "from": from_ms, "to": to_ms},
            )
        return {name: np.concatenate([p[k] for p in parts]) for k, name in enumerate(_TICK_COLUMNS)}

    async def bars(
        self, symbol: str, timeframe: str, from_s: int, to_s: int, *, allow_gaps: bool
    ) -> dict[str, np.ndarray]:
        """Bars in [from_s, to_s] (inclusive, as everywhere in the platform) as columns;
        InvalidInputError(history_incomplete) naming missing ranges."""
        if not allow_gaps:
            report = await self._data.completeness(symbol, timeframe, from_s, to_s)
            missing = [(r.from_, r.to) for r in report.missing]
            if missing:
                raise InvalidInputError(
                    missing_ranges_message(symbol, timeframe, missing),
                    code="history_incomplete",
                    details={
                        "symbol": symbol,
                        "timeframe": timeframe,
                        "missing": [list(r) for r in missing],
                        "percent": report.percent,
                    },
                )
        rates = await self._data.bars(symbol, timeframe, from_s=from_s, to_s=to_s)
        return {name: rates[name] for name in BAR_COLUMNS}
