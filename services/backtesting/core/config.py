"""Backtest configuration: account, costs, sizing, fill timing and the symbol facts P&L is computed with."""

from __future__ import annotations

import math
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.market.symbols import SymbolSpec
from shared.trading.sizing import SizingConfig


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class BacktestConfig(_Frozen):
    """Everything a run needs besides the bars and the strategy."""

    initial_balance: float = Field(default=10_000.0, gt=0)
    leverage: float = Field(default=1.0, gt=0, le=1000)
    costs: CostConfig = CostConfig()
    sizing: SizingConfig = SizingConfig()
    fill: FillTiming = FillTiming.NEXT_OPEN
    finalize_trades: bool = Field(default=False, description="close a trade still open at the last close")
    symbol: SymbolFacts = SymbolFacts()
