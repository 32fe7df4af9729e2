"""Tick-model figures for bench/backtest.py: the ticks model on a month of generated EURUSD ticks (ticks/s
on one core, SMA(10,20) crossover on H1 with 20-pip SL and 40-pip TP; the compiled loop walks the ticks),
its peak memory (the month is three numpy arrays, never a Python object per tick), and the m1_ohlc model
against the bars model on the same 1,000,000 M1 bars (ratio). Prints figures; asserts no timings.

    .venv/bin/python bench/backtest_ticks.py [--days 22] [--tick-ms 250] [--m1-bars 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.backtesting.core import BacktestConfig, SymbolFacts, run_backtest
from services.backtesting.core.config import Model, TickAccount
from services.backtesting.core.tick_engine import TickColumns, m1_ticks, run_tick_backtest
from shared.market.bars import ticks_to_bars
from shared.market.records import TICKS_DTYPE
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import get_timeframe
from shared.trading import SizingConfig, SizingMode, build_strategy

SEED = 42
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
EURUSD = next(s for s in DEFAULT_SYMBOLS if s.name == "EURUSD")
CONFIG = BacktestConfig(
    initial_balance=100_000.0,
    leverage=100,
    sizing=SizingConfig(mode=SizingMode.FIXED, value=1.0),
    symbol=SymbolFacts.from_spec(EURUSD),
    model=Model.TICKS,
    tick_account=TickAccount(sl_points=200, tp_points=400),
)
STRATEGY = build_strategy("sma_crossover", {"fast": 10, "slow": 20})


def month_of_ticks(days: int, tick_ms: int, seed: int = SEED) -> TickColumns:
    """EURUSD ticks every `tick_ms` for `days` days: a random walk on the 5-digit grid, 8-20 points of
    spread, built column by column."""
    rng = np.random.default_rng(seed)
    n = days * 86_400_000 // tick_ms
    points = 108_500 + np.cumsum(rng.integers(-2, 3, n, dtype=np.int64))
    bid = points / 100_000
    ask = (points + rng.integers(8, 21, n)) / 100_000
    return TickColumns(START_MS + tick_ms * np.arange(n, dtype=np.int64), bid, ask)


def _h1(ticks: TickColumns) -> dict[str, np.ndarray]:
    structured = np.zeros(len(ticks), dtype=TICKS_DTYPE)
    structured["time_msc"], structured["bid"], structured["ask"] = ticks.time_msc, ticks.bid, ticks.ask
    structured["time"] = ticks.time_msc // 1000
    bars = ticks_to_bars(structured, get_timeframe("H1"), EURUSD.point)
    return {name: bars[name] for name in ("time", "open", "high", "low", "close", "spread")}


def bench_ticks(days: int, tick_ms: int, repeat: int) -> None:
    """Ticks/s of the ticks model with 20/40-pip and with 200/400-pip stops (the latter in the market
    almost throughout, so the loop compares nearly every tick), and peak memory of one run."""
    ticks = month_of_ticks(days, tick_ms)
    bars = _h1(ticks)
    n = len(ticks)
    print(f"ticks model: {n:,} ticks ({days} days, one every {tick_ms} ms), {len(bars['time']):,} H1 bars")
    for sl, tp in ((200, 400), (2000, 4000)):
        config = CONFIG.model_copy(update={"tick_account": TickAccount(sl_points=sl, tp_points=tp)})
        run_tick_backtest(bars, ticks, 3600, STRATEGY, config)  # warm: numba's cache
        best = np.inf
        result = None
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = run_tick_backtest(bars, ticks, 3600, STRATEGY, config)
            best = min(best, time.perf_counter() - t0)
        assert result is not None and result.tick_times is not None
        # Ticks the loop compared one by one: those while a position was open (flat stretches are skipped).
        entry, exit_ = (np.searchsorted(ticks.time_msc, t) for t in result.tick_times)
        walked = int((exit_ - entry).sum())
        names, counts = np.unique(result.trades.exit_reason, return_counts=True)
        reasons = {str(k): int(v) for k, v in zip(names, counts, strict=True)}
        print(
            f"  SL {sl} / TP {tp} points: {len(result.trades):,} trades {reasons}; best of {repeat} "
            f"{best * 1e3:.1f} ms -> {n / best / 1e6:,.0f} M ticks/s of the month; the loop compared "
            f"{walked:,} ticks one by one ({walked / n:.0%}): >= {walked / best / 1e6:,.0f} M ticks/s "
            "(target >= 20)"
        )
    tracemalloc.start()
    run_tick_backtest(bars, ticks, 3600, STRATEGY, CONFIG)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    columns = ticks.time_msc.nbytes + ticks.bid.nbytes + ticks.ask.nbytes
    print(
        f"  memory: the ticks are {columns / 2**20:.0f} MiB of arrays ({columns / n:.0f} bytes a tick); a run "
        f"allocates at most {peak / 2**20:.1f} MiB more (tracemalloc peak): no Python object per tick"
    )


def bench_m1(n_m1: int, repeat: int) -> None:
    """m1_ohlc against bars on the same `n_m1` M1 bars (signals on M1, so both walk 1M bars)."""
    ticks = month_of_ticks(max(1, n_m1 // 1440 + 1), 60_000 // 8)
    structured = np.zeros(len(ticks), dtype=TICKS_DTYPE)
    structured["time_msc"], structured["bid"], structured["ask"] = ticks.time_msc, ticks.bid, ticks.ask
    structured["time"] = ticks.time_msc // 1000
    m1 = ticks_to_bars(structured, get_timeframe("M1"), EURUSD.point)[:n_m1]
    cols = {name: m1[name] for name in ("time", "open", "high", "low", "close", "spread")}
    bars_config = CONFIG.model_copy(update={"model": Model.BARS, "leverage": 100.0})
    m1_config = CONFIG.model_copy(update={"model": Model.M1_OHLC})

    def m1_run() -> None:
        run_tick_backtest(cols, m1_ticks(cols, EURUSD.point), 60, STRATEGY, m1_config)

    run_backtest(cols, STRATEGY, bars_config)
    m1_run()
    bars_s = min(_seconds(lambda: run_backtest(cols, STRATEGY, bars_config)) for _ in range(repeat))
    m1_s = min(_seconds(m1_run) for _ in range(repeat))
    print(
        f"m1_ohlc vs bars on {len(m1):,} M1 bars: bars {bars_s * 1e3:.1f} ms, m1_ohlc (4 ticks a bar, made "
        f"and walked) {m1_s * 1e3:.1f} ms -> m1_ohlc/bars = {m1_s / bars_s:.2f}"
    )


def _seconds(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=22, help="trading days of ticks (a month: 22)")
    parser.add_argument("--tick-ms", type=int, default=250, help="one tick every this many ms")
    parser.add_argument("--m1-bars", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    bench_ticks(args.days, args.tick_ms, args.repeat)
    bench_m1(args.m1_bars, args.repeat)


if __name__ == "__main__":
    main()
