"""Paper-account money rules: settings, rounding, conversion, margin, profit and the account snapshot.

Rules (documented here because MT5 leaves them to the broker's configuration):

- Money is rounded to cents (half-even) at every booking, as MT5 does with 2-digit account currencies.
- Conversion of an amount from currency A to currency B uses the bid of a configured symbol: the symbol A/B
  (base A, profit B) multiplies by its bid; the symbol B/A divides by its bid (e.g. a USDJPY profit in JPY
  is divided by the USDJPY bid). No such symbol, or no quote for it, means the amount cannot be converted.
- Margin (hedging account, no hedged-margin discount): when the margin currency is the base currency
  (Forex mode) it is `volume x contract` units of that currency converted to the account currency, where
  the symbol's own rate is the order price; otherwise (CFD mode, e.g. XAUUSD margined in USD) it is
  `volume x contract x price` units of the margin currency converted. Both are divided by the leverage.
  A position's margin is fixed at its open price.
- Profit is `(close - open) x volume x contract` in the profit currency (sign flipped for sells), converted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.market import mt5_constants as mt5
from shared.market.records import AccountInfo, Tick, TradePosition
from shared.market.symbols import SymbolSpec

_CENT = Decimal("0.01")


class PaperAccountSettings(BaseModel):
    """The paper account's identity and money rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    login: int = Field(default=10_000_001, gt=0)
    name: str = "Paper Account"
    server: str = "Simulated-Paper"
    company: str = "MT5 Trading Platform"
    currency: str = Field(default="USD", min_length=3, max_length=3)
    initial_balance: float = Field(default=10_000.0, gt=0)
    leverage: int = Field(default=100, ge=1, le=10_000)
    commission_per_lot: float = Field(default=0.0, ge=0, description="money charged per lot on each deal")
    margin_call_level: float = Field(default=100.0, ge=0, description="percent of margin level")
    stop_out_level: float = Field(default=50.0, ge=0, description="percent of margin level")

    @model_validator(mode="after")
    def _call_before_stop_out(self) -> PaperAccountSettings:
        if self.margin_call_level < self.stop_out_level:
            raise ValueError(
                f"margin_call_level ({self.margin_call_level}) must not be below stop_out_level "
                f"({self.stop_out_level}): the call warns before positions are closed"
            )
        return self


def money(amount: float | Decimal) -> float:
    """`amount` rounded to cents, half-even, computed in decimal."""
    value = amount if isinstance(amount, Decimal) else Decimal(repr(float(amount)))
    return float(value.quantize(_CENT, rounding=ROUND_HALF_EVEN)) + 0.0  # + 0.0 turns -0.0 into 0.0


def is_buy(order_type: int) -> bool:
    """True for the buying order types (BUY, BUY_LIMIT, BUY_STOP, BUY_STOP_LIMIT)."""
    return order_type in (
        mt5.ORDER_TYPE_BUY,
        mt5.ORDER_TYPE_BUY_LIMIT,
        mt5.ORDER_TYPE_BUY_STOP,
        mt5.ORDER_TYPE_BUY_STOP_LIMIT,
    )


def close_price(position_type: int, tick: Tick) -> float:
    """The price a position closes at: a long sells at the bid, a short buys at the ask."""
    return tick.bid if position_type == mt5.POSITION_TYPE_BUY else tick.ask


class Pricing:
    """Conversion, margin and profit against the current quotes (`price_of`) and the account settings."""

    def __init__(
        self,
        symbols: Mapping[str, SymbolSpec],
        settings: PaperAccountSettings,
        price_of: Callable[[str], Tick | None],
    ) -> None:
        self._symbols = symbols
        self._settings = settings
        self._price_of = price_of

    def rate(self, from_ccy: str, to_ccy: str) -> float | None:
        """How many `to_ccy` one `from_ccy` buys, from a configured symbol's bid; None when unknown."""
        if from_ccy == to_ccy:
            return 1.0
        via = self._converter(from_ccy, to_ccy)
        if via is None:
            return None
        tick = self._price_of(via.name)
        if tick is None or tick.bid <= 0:
            return None
        return tick.bid if via.currency_base == from_ccy else 1.0 / tick.bid

    def _converter(self, from_ccy: str, to_ccy: str) -> SymbolSpec | None:
        """The configured symbol whose bid converts between the two currencies."""
        for spec in self._symbols.values():
            if {spec.currency_base, spec.currency_profit} == {from_ccy, to_ccy}:
                return spec
        return None

    def margin(self, spec: SymbolSpec, volume: float, price: float) -> float | None:
        """Margin in account currency for `volume` lots opened at `price`; None when not convertible."""
        account = self._settings.currency
        if spec.currency_margin == spec.currency_base:
            units = Decimal(repr(volume)) * Decimal(repr(spec.contract_size))
            own_pair = spec.currency_base != account and spec.currency_profit == account
            rate = price if own_pair else self.rate(spec.currency_margin, account)
        else:
            units = Decimal(repr(volume)) * Decimal(repr(spec.contract_size)) * Decimal(repr(price))
            rate = self.rate(spec.currency_margin, account)
        if rate is None:
            return None
        return money(float(units) * rate / self._settings.leverage)

    def profit(
        self, spec: SymbolSpec, position_type: int, volume: float, price_open: float, price_close: float
    ) -> float | None:
        """Profit in account currency of `volume` lots from `price_open` to `price_close`."""
        diff = Decimal(repr(price_close)) - Decimal(repr(price_open))
        if position_type == mt5.POSITION_TYPE_SELL:
            diff = -diff
        amount = diff * Decimal(repr(volume)) * Decimal(repr(spec.contract_size))
        rate = self.rate(spec.currency_profit, self._settings.currency)
        if rate is None:
            return None
        return money(amount if rate == 1.0 else float(amount) * rate)

    def profit_series(self, position: TradePosition, bid: np.ndarray, ask: np.ndarray) -> np.ndarray | None:
        """`profit` of the whole position at each tick of its own symbol (bid/ask arrays), in float and not
        rounded to cents (off by at most half a cent per tick): to scan a batch of ticks, never to book."""
        spec = self._symbols[position.symbol]
        close = bid if position.type == mt5.POSITION_TYPE_BUY else ask
        diff = close - position.price_open
        if position.type == mt5.POSITION_TYPE_SELL:
            diff = -diff
        amount = diff * (position.volume * spec.contract_size)
        from_ccy, to_ccy = spec.currency_profit, self._settings.currency
        via = self._converter(from_ccy, to_ccy) if from_ccy != to_ccy else None
        if via is not None and via.name == position.symbol:  # converted through this tick's own bid
            return amount * bid if via.currency_base == from_ccy else amount / bid
        rate = self.rate(from_ccy, to_ccy)
        return None if rate is None else amount * rate

    def commission(self, volume: float) -> float:
        """Commission of one deal of `volume` lots, as a negative amount (MT5's sign)."""
        return -money(Decimal(repr(volume)) * Decimal(repr(self._settings.commission_per_lot)))

    def revalue(self, position: TradePosition) -> TradePosition:
        """The position with `price_current` and `profit` at the current quote (unchanged without one)."""
        tick = self._price_of(position.symbol)
        spec = self._symbols.get(position.symbol)
        if tick is None or spec is None:
            return position
        current = close_price(position.type, tick)
        profit = self.profit(spec, position.type, position.volume, position.price_open, current)
        return position._replace(price_current=current, profit=position.profit if profit is None else profit)

    def position_margin(self, position: TradePosition) -> float:
        """Margin held by an open position (0 when its currency cannot be converted)."""
        spec = self._symbols[position.symbol]
        return self.margin(spec, position.volume, position.price_open) or 0.0


def account_snapshot(
    settings: PaperAccountSettings, pricing: Pricing, balance: float, positions: Iterable[TradePosition]
) -> AccountInfo:
    """MT5's AccountInfo for the balance and open positions at the current quotes."""
    revalued = [pricing.revalue(p) for p in positions]
    profit = money(sum((Decimal(repr(p.profit)) for p in revalued), Decimal(0)))
    margin = money(sum((Decimal(repr(pricing.position_margin(p))) for p in revalued), Decimal(0)))
    equity = money(Decimal(repr(balance)) + Decimal(repr(profit)))
    return AccountInfo(
        login=settings.login,
        trade_mode=mt5.ACCOUNT_TRADE_MODE_DEMO,
        leverage=settings.leverage,
        limit_orders=200,
        margin_so_mode=0,  # ACCOUNT_STOPOUT_MODE_PERCENT
        trade_allowed=True,
        trade_expert=True,
        margin_mode=mt5.ACCOUNT_MARGIN_MODE_RETAIL_HEDGING,
        currency_digits=2,
        fifo_close=False,
        balance=balance,
        credit=0.0,
        profit=profit,
        equity=equity,
        margin=margin,
        margin_free=money(Decimal(repr(equity)) - Decimal(repr(margin))),
        margin_level=round(equity / margin * 100.0, 2) if margin > 0 else 0.0,
        margin_so_call=settings.margin_call_level,
        margin_so_so=settings.stop_out_level,
        margin_initial=0.0,
        margin_maintenance=0.0,
        assets=0.0,
        liabilities=0.0,
        commission_blocked=0.0,
        name=settings.name,
        server=settings.server,
        currency=settings.currency,
        company=settings.company,
    )
