"""The compiled sizing functions, shared by the backtest fill loop and `shared.trading.sizing`. They have a
module of their own, imported when a size is first computed, so that numba (~0.2 s to import) is not part
of every service's start-up."""

from __future__ import annotations

import math

import numpy as np

from shared.jit import njit

# Here, not in sizing.py: numba bakes it into the compiled code and only a change to this file renews its
# cache.
RELATIVE_TOLERANCE = 1e-9


@njit(cache=True)
def floor_to_step(raw: float, step: float, volume_min: float, volume_max: float) -> float:
    """`raw` rounded down to a whole number of steps and capped at the maximum; 0.0 below the minimum."""
    if not raw > 0.0:
        return 0.0
    # Write the step as an integer over a power of ten (0.01 = 1/100); k steps are then k*units/scale, one
    # correctly rounded division giving the float nearest the decimal multiple, as Decimal -> float does.
    scale = 1.0
    while abs(step * scale - round(step * scale)) > 1e-9 and scale < 1e12:
        scale *= 10.0
    units = float(round(step * scale))
    n = math.floor(raw * scale / units)
    if (n + 1) * units / scale <= raw:
        n += 1
    elif n > 0 and n * units / scale > raw:
        n -= 1
    volume = n * units / scale
    if volume < volume_min:
        return 0.0
    return min(volume, volume_max)


@njit(cache=True)
def raw_position_size(
    mode: int,
    value: float,
    equity: float,
    price: float,
    sl: float,
    value_per_price: float,
    leverage: float,
    cost_per_lot: float,
) -> float:
    """Unrounded volume for `mode`. `value_per_price` is money per 1.0 price move per lot; `cost_per_lot` the
    money one lot costs to open (notional at the fill price plus entry commission), used by all_in only."""
    if mode == 0:
        return value
    # Prices like 1.1 - 1.095 are inexact in binary, which would make 0.2 lots come out as 0.19999…; a
    # relative allowance of 1e-9 (a millionth of a cent on $1,000 at risk) absorbs that noise.
    if mode == 1:
        return equity * value / (price * value_per_price) * (1.0 + RELATIVE_TOLERANCE)
    if mode == 2:
        distance = abs(price - sl)
        if np.isnan(sl) or distance == 0.0:
            return 0.0
        return equity * value / 100.0 / (distance * value_per_price) * (1.0 + RELATIVE_TOLERANCE)
    # all_in: whole lots by floor division, as backtesting.py sizes its default order.
    return (equity * leverage * value) // cost_per_lot
