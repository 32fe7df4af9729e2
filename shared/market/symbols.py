"""Symbol facts as MT5 reports them, and the exact volume/price arithmetic every money path uses."""

from __future__ import annotations

import math
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.market import mt5_constants as mt5


class SymbolSpec(BaseModel):
    """One tradable symbol. Field names follow MT5's SymbolInfo where one exists."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=32)
    description: str = ""
    path: str = ""
    digits: int = Field(ge=0, le=8)
    contract_size: float = Field(gt=0)
    volume_min: float = Field(gt=0)
    volume_max: float = Field(gt=0)
    volume_step: float = Field(gt=0)
    tick_size: float | None = Field(default=None, gt=0, description="defaults to the point")
    spread_points: int = Field(ge=0, description="typical spread in points")
    stops_level: int = Field(default=0, ge=0, description="minimum SL/TP distance from price, in points")
    currency_base: str
    currency_profit: str
    currency_margin: str
    trade_mode: int = mt5.SYMBOL_TRADE_MODE_FULL
    filling_mode: int = Field(default=mt5.SYMBOL_FILLING_FOK | mt5.SYMBOL_FILLING_IOC, ge=0, le=3)
    swap_long: float = 0.0
    swap_short: float = 0.0
    # Simulation only: where the deterministic market starts and how much it moves.
    base_price: float = Field(gt=0)
    volatility_annual: float = Field(default=0.08, gt=0, lt=5)

    @model_validator(mode="after")
    def _check_volumes(self) -> SymbolSpec:
        if self.volume_min > self.volume_max:
            raise ValueError("volume_min must not exceed volume_max")
        if not is_multiple(self.volume_min, self.volume_step):
            raise ValueError("volume_min must be a multiple of volume_step")
        return self

    @property
    def point(self) -> float:
        return float(Decimal(1).scaleb(-self.digits))

    @property
    def trade_tick_size(self) -> float:
        return self.tick_size if self.tick_size is not None else self.point

    def round_price(self, price: float) -> float:
        """Price rounded to the symbol's digits (half-even, as exchanges and MT5 do)."""
        return round_to_step(price, self.point, ROUND_HALF_EVEN)

    def price_error(self, price: float) -> str | None:
        """Why `price` is not on this symbol's price grid (a whole number of ticks), or None when it is."""
        if not is_multiple(price, self.trade_tick_size):
            return f"{price} is not a multiple of the tick size {self.trade_tick_size}"
        return None

    def normalize_volume(self, volume: float) -> float:
        """Volume rounded down to the step and clamped to [min, max]; 0.0 when below the minimum."""
        stepped = round_to_step(volume, self.volume_step, ROUND_DOWN)
        if stepped < self.volume_min:
            return 0.0
        return min(stepped, self.volume_max)

    def volume_error(self, volume: float) -> str | None:
        """Why `volume` is not tradable on this symbol, or None when it is."""
        if volume < self.volume_min or volume > self.volume_max:
            return f"volume {volume} outside [{self.volume_min}, {self.volume_max}]"
        if not is_multiple(volume, self.volume_step):
            return f"volume {volume} is not a multiple of the step {self.volume_step}"
        return None


def _dec(x: float) -> Decimal:
    # repr() gives the shortest string that round-trips, so 0.1 becomes Decimal("0.1"), not 0.1000000000000000055.
    return Decimal(repr(float(x)))


def round_to_step(value: float, step: float, rounding: str) -> float:
    """`value` rounded to a whole number of `step`s, computed in decimal so 0.07/0.01 is exactly 7."""
    d_step = _dec(step)
    steps = (_dec(value) / d_step).quantize(Decimal(1), rounding=rounding)
    return float(steps * d_step)


# Digits enough for the exact remainder of any finite float by any other (1.8e308 / 5e-324 has 632 digits
# before the point): with the default 28, a huge value over a small step raises InvalidOperation.
_EXACT_PRECISION = 700


def is_multiple(value: float, step: float) -> bool:
    """True when `value` is a whole number of `step`s (decimal arithmetic, no float residue)."""
    if not math.isfinite(value):
        return False
    with localcontext() as exact:
        exact.prec = _EXACT_PRECISION
        return (_dec(value) % _dec(step)) == 0


DEFAULT_SYMBOLS: tuple[SymbolSpec, ...] = (
    SymbolSpec(
        name="EURUSD",
        description="Euro vs US Dollar",
        path="Forex\\Majors\\EURUSD",
        digits=5,
        contract_size=100_000,
        volume_min=0.01,
        volume_max=100,
        volume_step=0.01,
        spread_points=12,
        currency_base="EUR",
        currency_profit="USD",
        currency_margin="EUR",
        base_price=1.0850,
        volatility_annual=0.07,
    ),
    SymbolSpec(
        name="GBPUSD",
        description="Great Britain Pound vs US Dollar",
        path="Forex\\Majors\\GBPUSD",
        digits=5,
        contract_size=100_000,
        volume_min=0.01,
        volume_max=100,
        volume_step=0.01,
        spread_points=15,
        currency_base="GBP",
        currency_profit="USD",
        currency_margin="GBP",
        base_price=1.2650,
        volatility_annual=0.08,
    ),
    SymbolSpec(
        name="USDJPY",
        description="US Dollar vs Japanese Yen",
        path="Forex\\Majors\\USDJPY",
        digits=3,
        contract_size=100_000,
        volume_min=0.01,
        volume_max=100,
        volume_step=0.01,
        spread_points=14,
        currency_base="USD",
        currency_profit="JPY",
        currency_margin="USD",
        base_price=151.50,
        volatility_annual=0.09,
    ),
    SymbolSpec(
        name="XAUUSD",
        description="Gold vs US Dollar",
        path="Metals\\XAUUSD",
        digits=2,
        contract_size=100,
        volume_min=0.01,
        volume_max=50,
        volume_step=0.01,
        spread_points=25,
        stops_level=10,
        currency_base="XAU",
        currency_profit="USD",
        currency_margin="USD",
        base_price=2350.00,
        volatility_annual=0.15,
    ),
)
