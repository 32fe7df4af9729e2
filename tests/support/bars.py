"""Synthetic bars for tests, and the shapes tests hand them over in.

One random walk (`random_walk_bars`, hourly by default) for strategy, backtest, pattern and model tests;
`m1_bars` for the data service's stores, whose prices sit on the 5-digit point grid so a round trip
through a store compares exactly; `rates` and `json_columns` convert between the column dict a body
carries and the RATES_DTYPE records the data service serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from shared.market.records import RATES_DTYPE

START_S = 1_700_000_000


def random_walk_bars(
    n: int = 2000, *, seed: int = 7, start_s: int = START_S, step_s: int = 3600
) -> dict[str, np.ndarray]:
    """OHLC columns of a random walk from 100 (steps N(0, 0.5)); each bar opens at the previous close
    and its wicks reach 0.2 beyond the body."""
    rng = np.random.default_rng(seed)
    close = 100 + np.cumsum(rng.normal(0, 0.5, n))
    open_ = np.r_[close[0], close[:-1]]
    return {
        "time": start_s + step_s * np.arange(n, dtype=np.int64),
        "open": open_,
        "high": np.maximum(open_, close) + 0.2,
        "low": np.minimum(open_, close) - 0.2,
        "close": close,
    }


def m1_bars(start_s: int, n: int, seed: int = 3) -> np.ndarray:
    """`n` consecutive M1 RATES_DTYPE bars from `start_s`, prices on the 1e-5 grid, consistent OHLC."""
    rng = np.random.default_rng(seed)
    bars = np.zeros(n, dtype=RATES_DTYPE)
    bars["time"] = start_s + 60 * np.arange(n)
    close = np.round(1.1 + np.cumsum(rng.integers(-5, 6, n)) * 1e-5, 5)
    bars["open"] = np.r_[close[0], close[:-1]]
    bars["close"] = close
    bars["high"] = np.maximum(bars["open"], close) + 2e-5
    bars["low"] = np.minimum(bars["open"], close) - 2e-5
    bars["tick_volume"] = rng.integers(1, 100, n)
    bars["spread"] = rng.integers(5, 20, n)
    return bars


def rates(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """RATES_DTYPE records from bar columns; columns not given stay zero."""
    n = len(columns["time"])
    bars = np.zeros(n, dtype=RATES_DTYPE)
    for name, values in columns.items():
        bars[name] = values
    return bars


def json_columns(bars: Mapping[str, np.ndarray]) -> dict[str, list[Any]]:
    """Bar columns as a JSON body carries them."""
    return {name: np.asarray(values).tolist() for name, values in bars.items()}
