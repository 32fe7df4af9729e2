"""Backtests on ticks: the "ticks" model (stored ticks) and the "m1_ohlc" model (ticks made from M1 bars),
both run by the compiled tick loop (tick_fills.py), the paper broker's twin.

Signals come from the bars of the chosen timeframe, as in the bars model; each bar's order executes at the
first tick at or after the bar's close. The tick columns are numpy arrays throughout (a month of EURUSD
ticks is three arrays, never a Python object per tick).

M1 OHLC follows MetaTrader 5's tester ("1 minute OHLC"): each M1 bar is four ticks, open, then low and high
in the candle's direction (a rising candle O-L-H-C, a falling one O-H-L-C; a doji goes against the candle
before it), then close, all bid prices; the ask is the bid plus the minute's own spread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.backtesting.core.config import BacktestConfig
from services.backtesting.core.engine import (
    BacktestResult,
    CancelFn,
    ProgressFn,
    bar_columns,
    bool_column,
    check_cancel,
    first_signal_bar,
    level_column,
    result_from_run,
)
from services.backtesting.core.run_warnings import run_warnings
from shared.errors import InvalidInputError
from shared.trading.strategy import Bars, Signals, Strategy

# Offsets (ms) of an M1 bar's four ticks: only their order matters, and all four fall inside the minute.
_M1_OFFSETS_MS = np.array([0, 15_000, 30_000, 59_999], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class TickColumns:
    """A tick stream as three arrays (time_msc strictly in time order)."""

    time_msc: np.ndarray
    bid: np.ndarray
    ask: np.ndarray

    def __len__(self) -> int:
        return len(self.time_msc)

    @classmethod
    def of(cls, columns: Mapping[str, np.ndarray]) -> TickColumns:
        return cls(
            np.ascontiguousarray(columns["time_msc"], dtype=np.int64),
            np.ascontiguousarray(columns["bid"], dtype=np.float64),
            np.ascontiguousarray(columns["ask"], dtype=np.float64),
        )


def m1_walk_order(open_: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Per M1 bar, True when it visits the low before the high (MT5's tester: rising candles go down first;
    a doji goes against the candle before it, and the first doji goes up first)."""
    rising = np.sign(close - open_)
    if rising.size and (rising == 0).any():
        # A doji takes the opposite direction of the candle before it (whatever that one was taken as).
        for i in np.flatnonzero(rising == 0):
            rising[i] = -rising[i - 1] if i > 0 else -1.0
    return rising > 0


def m1_ticks(m1: Mapping[str, np.ndarray], point: float) -> TickColumns:
    """Four ticks per M1 bar: open, the extremes in MT5's order, close; ask = bid + the bar's spread."""
    time = np.asarray(m1["time"], dtype=np.int64)
    o, h, low, c = (np.asarray(m1[n], dtype=np.float64) for n in ("open", "high", "low", "close"))
    low_first = m1_walk_order(o, c)
    prices = np.empty((len(time), 4), dtype=np.float64)
    prices[:, 0], prices[:, 3] = o, c
    prices[:, 1] = np.where(low_first, low, h)
    prices[:, 2] = np.where(low_first, h, low)
    spread = np.asarray(m1["spread"], dtype=np.float64) * point if "spread" in m1 else np.zeros(len(time))
    times = (time[:, None] * 1000 + _M1_OFFSETS_MS[None, :]).ravel()
    bid = prices.ravel()
    return TickColumns(times, bid, bid + np.repeat(spread, 4))


def fill_ticks(bar_time_s: np.ndarray, bar_seconds: int, tick_ms: np.ndarray) -> np.ndarray:
    """Per bar, the index of the first tick at or after its close (len(ticks) when none)."""
    close_ms = (np.asarray(bar_time_s, dtype=np.int64) + bar_seconds) * 1000
    return np.searchsorted(tick_ms, close_ms, side="left").astype(np.int64)


def _distance(points: float | None, point: float) -> float:
    return math.nan if points is None else points * point


@dataclass(frozen=True, slots=True)
class BarTicks:
    """A run's ticks and the length of its bars (each bar's order fills at the first tick at or after its
    close), for runs on parts of the bars: a search's, or a walk-forward window's."""

    ticks: TickColumns
    bar_seconds: int

    def window(self, bar_time_s: np.ndarray) -> tuple[TickColumns, np.ndarray]:
        """The ticks of the bars opening at `bar_time_s` (views, from the first bar's open to just before the
        last one's close: what a single backtest of those bars reads) and each bar's fill tick in them."""
        times = self.ticks.time_msc
        lo, hi = np.searchsorted(
            times, [int(bar_time_s[0]) * 1000, (int(bar_time_s[-1]) + self.bar_seconds) * 1000], side="left"
        )
        span = TickColumns(times[lo:hi], self.ticks.bid[lo:hi], self.ticks.ask[lo:hi])
        return span, fill_ticks(bar_time_s, self.bar_seconds, span.time_msc)


def simulate_on_ticks(
    cols: Mapping[str, np.ndarray],
    signals: Signals,
    ticks: TickColumns,
    fill: np.ndarray,
    config: BacktestConfig,
    start: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The compiled tick loop over prepared columns (`fill`: each bar's fill tick, `fill_ticks`); returns
    (equity per bar, trade records, skipped entry counts), as `engine.simulate_signals` does for bars."""
    from services.backtesting.core import tick_fills

    account, sym, sizing = config.tick_account, config.symbol, config.sizing
    return tick_fills.simulate_ticks(
        ticks.bid,
        ticks.ask,
        fill,
        bool_column(signals.entry_long),
        bool_column(signals.exit_long),
        bool_column(signals.entry_short),
        bool_column(signals.exit_short),
        level_column(signals.sl),
        level_column(signals.tp),
        _distance(account.sl_points, sym.point),
        _distance(account.tp_points, sym.point),
        start,
        config.finalize_trades,
        config.initial_balance,
        account.as_array(config),
        int(sizing.mode),
        sizing.value,
        sym.volume_step,
        sym.volume_min,
        sym.volume_max,
        sym.value_per_price,
    )


def run_tick_backtest(
    bars: Bars,
    ticks: TickColumns,
    bar_seconds: int,
    strategy: Strategy[Any],
    config: BacktestConfig,
    progress: ProgressFn | None = None,
    cancel: CancelFn | None = None,
) -> BacktestResult:
    """Backtest `strategy`'s signals on `bars` (of `bar_seconds` each) filled on `ticks`."""
    from services.backtesting.core import tick_fills

    report = progress or (lambda _fraction: None)
    cols = bar_columns(bars)
    start = first_signal_bar(strategy, len(cols["close"]))
    if len(ticks) == 0:
        raise InvalidInputError("no ticks to run on", code="no_ticks", details={"bars": len(cols["close"])})
    report(0.0)
    signals = strategy.signals(cols)
    check_cancel(cancel)
    report(0.3)
    fill = fill_ticks(cols["time"], bar_seconds, ticks.time_msc)
    equity, records, skipped = simulate_on_ticks(cols, signals, ticks, fill, config, start)
    check_cancel(cancel)
    report(0.8)
    warnings = tuple(run_warnings(signals, skipped, config, start, len(records)))
    result = result_from_run(cols["time"], cols["close"], equity, records, strategy.first_valid_bar, warnings)
    tick_index = records[:, [tick_fills.T_ENTRY_TICK, tick_fills.T_EXIT_TICK]].astype(np.int64)
    report(1.0)
    return result.with_tick_times(ticks.time_msc[tick_index[:, 0]], ticks.time_msc[tick_index[:, 1]])
