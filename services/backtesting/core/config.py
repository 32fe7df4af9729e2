"""Backtest configuration: account, costs, sizing, fill timing and the symbol facts P&L is computed with."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.market.symbols import SymbolSpec
from shared.trading.sizing import SizingConfig


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


if TYPE_CHECKING:
    import numpy as np


class Model(StrEnum):
    """How prices move inside a bar: the bars alone (backtesting.py's rules), each bar walked through its M1
    bars as MT5's "1 minute OHLC" tester does, or the stored ticks (the paper broker's rules)."""

    BARS = "bars"
    M1_OHLC = "m1_ohlc"
    TICKS = "ticks"


class FillTiming(StrEnum):
    """When a signal at bar i is filled: bar i+1's open (default) or bar i's close."""

    NEXT_OPEN = "next_open"
    THIS_CLOSE = "this_close"


class SymbolFacts(_Frozen):
    """What P&L and volume rounding need from a symbol. The defaults are "units": 1 unit moves 1 money per
    1.0 of price, whole units only (backtesting.py's model)."""

    point: float = Field(default=0.01, gt=0, description="price of one point (spread and slippage unit)")
    tick_size: float = Field(default=1.0, gt=0)
    tick_value: float = Field(default=1.0, gt=0, description="account money per tick move per lot")
    volume_min: float = Field(default=1.0, gt=0)
    volume_step: float = Field(default=1.0, gt=0)
    volume_max: float = Field(default=math.inf, gt=0)

    @model_validator(mode="after")
    def _volumes_ordered(self) -> SymbolFacts:
        if self.volume_min > self.volume_max:
            raise ValueError("volume_min must not exceed volume_max")
        return self

    @property
    def value_per_price(self) -> float:
        """Account money per 1.0 price move per lot."""
        return self.tick_value / self.tick_size

    @classmethod
    def from_spec(cls, spec: SymbolSpec, tick_value: float | None = None) -> SymbolFacts:
        """Facts of an MT5 symbol; `tick_value` defaults to contract_size * tick_size (profit currency =
        account currency)."""
        tick = spec.trade_tick_size
        return cls(
            point=spec.point,
            tick_size=tick,
            tick_value=spec.contract_size * tick if tick_value is None else tick_value,
            volume_min=spec.volume_min,
            volume_step=spec.volume_step,
            volume_max=spec.volume_max,
        )


class CostConfig(_Frozen):
    """Trading costs. Spread sources add up; commission parts add up; each is charged per side."""

    spread_points: float = Field(default=0.0, ge=0, description="fixed spread, points")
    spread_from_bars: bool = Field(default=False, description="use the bars' `spread` column (points)")
    spread_fraction: float = Field(default=0.0, ge=0, lt=0.1, description="relative spread (backtesting.py)")
    commission_fraction: float = Field(default=0.0, ge=0, lt=0.1, description="fraction of notional")
    commission_per_lot: float = Field(default=0.0, ge=0, description="money per lot")
    slippage_points: float = Field(default=0.0, ge=0, description="adverse, on market and stop fills")


class TickAccount(_Frozen):
    """What the tick models book with beyond SymbolFacts, as the paper broker does: the symbol's contract and
    currencies, the account's stop-out level, and the stops a live instance's risk config would set."""

    contract_size: float = Field(default=100_000.0, gt=0)
    profit_via_bid: bool = Field(
        default=False, description="profit converts to the account currency by dividing by the bid (USDJPY)"
    )
    margin_uses_price: bool = Field(
        default=True,
        description="margin is volume x contract x price (else volume x contract), over leverage",
    )
    stop_out_level: float = Field(default=50.0, ge=0, description="margin level (%) that closes the position")
    stops_level: int = Field(default=0, ge=0, description="minimum SL/TP distance from the price, points")
    sl_points: float | None = Field(
        default=None, gt=0, description="SL distance from the fill price when the strategy sets none"
    )
    tp_points: float | None = Field(
        default=None, gt=0, description="TP distance from the fill price when the strategy sets none"
    )

    def as_array(self, config: BacktestConfig) -> np.ndarray:
        """The tick loop's account array (tick_fills.A_*)."""
        import numpy as np

        return np.array(
            [
                self.contract_size,
                float(self.profit_via_bid),
                float(self.margin_uses_price),
                config.leverage,
                config.costs.commission_per_lot,
                self.stop_out_level,
                float(round(1.0 / config.symbol.point)),
                float(self.stops_level),
            ],
            dtype=np.float64,
        )


class BacktestConfig(_Frozen):
    """Everything a run needs besides the bars and the strategy."""

    initial_balance: float = Field(default=10_000.0, gt=0)
    leverage: float = Field(default=1.0, gt=0, le=1000)
    costs: CostConfig = CostConfig()
    sizing: SizingConfig = SizingConfig()
    fill: FillTiming = FillTiming.NEXT_OPEN
    finalize_trades: bool = Field(default=False, description="close a trade still open at the last close")
    symbol: SymbolFacts = SymbolFacts()
    model: Model = Model.BARS
    tick_account: TickAccount = TickAccount()
