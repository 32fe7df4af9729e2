"""The tick-model tests' market: 300 hours of EURUSD ticks (a tick every 2.5 s) and the H1 and M1 bars made
from them, with the request body and the in-process config those tests share."""

from __future__ import annotations

import numpy as np

from services.backtesting.core.config import BacktestConfig, Model, SymbolFacts, TickAccount
from shared.market.bars import ticks_to_bars
from shared.market.records import TICKS_DTYPE
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import get_timeframe
from shared.trading import SizingConfig, SizingMode

START = 1_704_067_200  # 2024-01-01T00:00:00Z, a Monday
HOURS = 300
SMA = {"strategy": "sma_crossover", "params": {"fast": 5, "slow": 12}}


def _ticks() -> np.ndarray:
    """A tick every 2.5 s for HOURS hours: a random walk on the 5-digit grid, 10 to 20 points of spread."""
    rng = np.random.default_rng(7)
    n = HOURS * 1440
    ticks = np.zeros(n, dtype=TICKS_DTYPE)
    ticks["time_msc"] = START * 1000 + 2_500 * np.arange(n)
    ticks["time"] = ticks["time_msc"] // 1000
    points = 108_500 + np.cumsum(rng.integers(-3, 4, n))
    ticks["bid"] = points / 100_000
    ticks["ask"] = (points + rng.integers(10, 21, n)) / 100_000
    return ticks


TICKS = _ticks()
H1 = ticks_to_bars(TICKS, get_timeframe("H1"), 0.00001)
M1 = ticks_to_bars(TICKS, get_timeframe("M1"), 0.00001)
EURUSD = next(s for s in DEFAULT_SYMBOLS if s.name == "EURUSD")
BAR_NAMES = ("time", "open", "high", "low", "close", "tick_volume", "spread")


def body(symbol: str, model: str) -> dict[str, object]:
    """A run request over the whole market, 0.1 lots, with 150/300-point stops."""
    return {
        **SMA,
        "symbol": symbol,
        "timeframe": "H1",
        "from": START,
        "to": int(H1["time"][-1]),
        "model": model,
        "sizing": {"mode": "fixed", "value": 0.1},
        "leverage": 100,
        "sl_points": 150,
        "tp_points": 300,
    }


def config(model: Model, initial_balance: float = 10_000.0) -> BacktestConfig:
    """What the service makes of `body` without an mt5 service (EURUSD's built-in facts, a USD account)."""
    return BacktestConfig(
        initial_balance=initial_balance,
        leverage=100,
        sizing=SizingConfig(mode=SizingMode.FIXED, value=0.1),
        symbol=SymbolFacts.from_spec(EURUSD),
        model=model,
        tick_account=TickAccount(sl_points=150, tp_points=300),
    )
