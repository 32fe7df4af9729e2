"""Position sizing, shared by the backtest fill loop and the live risk manager.

Four modes: a fixed volume, a fraction of equity (notional), a percentage of equity risked against the
stop-loss distance, and "all in" (as many whole volume steps as the equity pays for, costs included).
The raw size is always rounded DOWN to the symbol's volume step and clamped to [min, max]; below the
minimum the size is 0 (no trade). `floor_to_step` is the float form the compiled loop uses; a property
test proves it equals the exact decimal `SymbolSpec.normalize_volume` that live orders use.

The compiled functions live in sizing_kernels.py, imported on first use: numba would add ~0.2 s to the
start-up of every service that imports this module.
"""

from __future__ import annotations

import math
from enum import IntEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

from shared.market.symbols import DEFAULT_SYMBOLS, SymbolSpec


class SizingMode(IntEnum):
    """How a trade's volume is chosen; integer values so the compiled loop can branch on them."""

    FIXED = 0
    EQUITY_FRACTION = 1
    RISK_PERCENT = 2
    ALL_IN = 3


# Requests name the mode ("risk_percent"); answers and the OpenAPI schema use the same names. The integer
# stays the in-memory value (the compiled loop branches on it); JSON that gives it is refused, as the
# schema documents names only.
NamedSizingMode = Annotated[
    SizingMode,
    PlainSerializer(lambda mode: mode.name.lower(), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [mode.name.lower() for mode in SizingMode],
            "description": "fixed: lots; equity_fraction: notional as a fraction of equity; "
            "risk_percent: percent of equity lost at the stop-loss; all_in: whole steps the equity pays for",
        }
    ),
]


class SizingConfig(BaseModel):
    """`value` is lots (fixed), a fraction of equity (equity_fraction, all_in) or a percent (risk_percent)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    mode: NamedSizingMode = SizingMode.ALL_IN
    value: float = Field(default=1.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _mode_by_name(cls, data: object) -> object:
        names = ", ".join(m.lower() for m in SizingMode.__members__)
        if isinstance(data, dict) and type(data.get("mode")) in (int, bool):
            raise ValueError(f"mode: name the sizing mode, one of {names}")
        if isinstance(data, dict) and isinstance(data.get("mode"), str):
            name = data["mode"].upper()
            if name not in SizingMode.__members__:
                raise ValueError(f"mode: unknown sizing mode {data['mode']!r}; expected one of {names}")
            data = {**data, "mode": SizingMode[name]}
        return data

    @model_validator(mode="after")
    def _value_in_range(self) -> SizingConfig:
        if self.mode == SizingMode.RISK_PERCENT and self.value > 100:
            raise ValueError("value: risk percent must be at most 100")
        if self.mode == SizingMode.ALL_IN and self.value > 1:
            raise ValueError("value: all_in fraction must be at most 1")
        return self


def floor_to_step(raw: float, step: float, volume_min: float, volume_max: float) -> float:
    """`raw` rounded down to a whole number of steps and capped at the maximum; 0.0 below the minimum."""
    from shared.trading.sizing_kernels import floor_to_step as compiled

    return compiled(raw, step, volume_min, volume_max)


def position_size(
    sizing: SizingConfig,
    *,
    spec: SymbolSpec,
    equity: float,
    price: float,
    sl: float | None = None,
    value_per_price: float | None = None,
    leverage: float = 1.0,
    commission_per_lot: float = 0.0,
) -> float:
    """Tradable volume for a live order: the raw size normalised with exact decimal steps (0.0 = no trade)."""
    from shared.trading.sizing_kernels import raw_position_size

    vpp = spec.contract_size if value_per_price is None else value_per_price
    raw = raw_position_size(
        int(sizing.mode),
        sizing.value,
        equity,
        price,
        math.nan if sl is None else sl,
        vpp,
        leverage,
        price * vpp + commission_per_lot,
    )
    return spec.normalize_volume(raw) if raw > 0 else 0.0


def compile_sizing() -> None:
    """Compile the jitted sizing now (or load it from numba's cache): a first call takes about half a
    second, which a live service should spend warming up, not on its first order."""
    position_size(
        SizingConfig(mode=SizingMode.RISK_PERCENT, value=1.0),
        spec=DEFAULT_SYMBOLS[0],
        equity=10_000.0,
        price=1.1,
        sl=1.09,
    )
