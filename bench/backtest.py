"""Backtest engine benchmark: SMA(10,20) crossover on 1,000,000 random-walk bars (seed 42).

Compares this engine (warm, in-process) with backtesting.py and vectorbt `Portfolio.from_signals` (warm),
asserting identical trades; the same backtest through the backtesting service's HTTP API end to end
(bench/backtest_http.py); then a 100-combination grid on 2 processes, and peak memory for 10,000,000 bars
(measured in a fresh process); a 4-symbol portfolio over a year of H1 against the four single-symbol runs
(bench/backtest_portfolio.py); then the tick and m1_ohlc models (bench/backtest_ticks.py). Prints figures;
asserts no timings.

    .venv/bin/python bench/backtest.py [--bars 1000000] [--repeat 20] [--skip-reference] [--skip-http]
        [--skip-grid] [--skip-memory] [--skip-portfolio] [--skip-ticks]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.backtesting.core import BacktestConfig, ParamRange, run_backtest, run_optimization
from services.backtesting.core.engine import bar_columns, first_signal_bar, result_from_run, simulate_signals
from services.backtesting.core.executors import ExecutorConfig, open_executor
from shared.trading import StrategyRegistry, build_strategy

SEED = 42
# Long-only so every engine sizes identically (all cash in whole units, no costs).
PARAMS = {"fast": 10, "slow": 20, "allow_short": False}
CONFIG = BacktestConfig(initial_balance=1_000_000.0)


def random_walk(n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """Minute bars of a geometric random walk."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.001, n)))
    open_ = np.r_[100.0, close[:-1]]
    wiggle = np.abs(rng.normal(0.0, 0.0005, n)) * close
    return {
        "time": 1_600_000_000 + 60 * np.arange(n, dtype=np.int64),
        "open": open_,
        "high": np.maximum(open_, close) + wiggle,
        "low": np.minimum(open_, close) - wiggle,
        "close": close,
    }


def sample(fn: Callable[[], Any], repeat: int) -> tuple[np.ndarray, Any]:
    """Seconds of each of `repeat` calls, and the last call's value."""
    seconds, value = np.empty(repeat), None
    for k in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        seconds[k] = time.perf_counter() - t0
    return seconds, value


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Best seconds of `repeat` calls, and the last call's value."""
    seconds, value = sample(fn, repeat)
    return float(seconds.min()), value


def spread_ms(seconds: np.ndarray) -> str:
    """Best / median / worst in milliseconds: the machine is shared, so one figure says little."""
    return f"best {seconds.min() * 1e3:.1f} / median {np.median(seconds) * 1e3:.1f} / worst {seconds.max() * 1e3:.1f} ms"


def bench_engine(bars: dict[str, np.ndarray], repeat: int) -> tuple[float, np.ndarray]:
    """This engine warm, in-process: the full run, then each stage alone. Returns (best seconds, trades)."""
    strategy = build_strategy("sma_crossover", PARAMS)
    run_backtest(bars, strategy, CONFIG)  # warm: loads the numba cache (compiles on the very first run)
    full, result = sample(lambda: run_backtest(bars, strategy, CONFIG), repeat)
    cols = bar_columns(bars)
    start = first_signal_bar(strategy, len(cols["close"]))
    signals_s, signals = sample(lambda: strategy.signals(cols), repeat)
    fill_s, (equity, records, _skipped) = sample(
        lambda: simulate_signals(cols, signals, CONFIG, start), repeat
    )
    metrics_s, _ = sample(
        lambda: result_from_run(cols["time"], cols["close"], equity, records, strategy.first_valid_bar),
        repeat,
    )
    trades = np.c_[result.trades.entry_bar, result.trades.exit_bar, result.trades.size]
    print(f"bars: {len(cols['close']):,}, trades: {len(trades):,}, {repeat} runs of each")
    print(f"this engine (warm, full run incl. signals and metrics): {spread_ms(full)}")
    for name, seconds in (("signals", signals_s), ("fill loop", fill_s), ("trades + metrics", metrics_s)):
        print(f"  {name:<17} {spread_ms(seconds)}")
    return float(full.min()), trades


def bench_backtesting_py(bars: dict[str, np.ndarray]) -> tuple[float, np.ndarray]:
    import pandas as pd
    import talib
    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    class SmaCross(Strategy):
        def init(self) -> None:
            close = np.asarray(self.data.Close, dtype=float)
            self.fast = self.I(talib.SMA, close, 10)
            self.slow = self.I(talib.SMA, close, 20)

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()

    df = pd.DataFrame(
        {"Open": bars["open"], "High": bars["high"], "Low": bars["low"], "Close": bars["close"]},
        index=pd.to_datetime(bars["time"], unit="s"),
    )
    bt = Backtest(df, SmaCross, cash=CONFIG.initial_balance, commission=0.0, exclusive_orders=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        seconds, stats = timed(bt.run)
    trades = stats["_trades"]
    return seconds, np.c_[trades.EntryBar, trades.ExitBar, trades.Size]


def bench_vectorbt(bars: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        import vectorbt as vbt
    except ImportError:
        print("vectorbt: not installed, column skipped (pip install vectorbt)")
        return None
    signals = build_strategy("sma_crossover", PARAMS).signals(bars)
    # vectorbt fills at the given price on the signal bar; shift by one bar to fill at the next open.
    entries = np.r_[False, signals.entry_long[:-1]]
    exits = np.r_[False, signals.exit_long[:-1]]

    def run():
        return vbt.Portfolio.from_signals(
            bars["close"],
            entries,
            exits,
            price=bars["open"],
            size=np.inf,
            size_granularity=1,
            init_cash=CONFIG.initial_balance,
            freq="1min",
        )

    run()  # compile
    seconds, pf = sample(run, repeat=5)
    records = pf.trades.records_readable
    closed = records[records["Status"] == "Closed"]
    return seconds, np.c_[closed["Entry Timestamp"], closed["Exit Timestamp"], closed["Size"]]


def peak_rss_bytes() -> int:
    """This process's peak resident memory. On Linux, VmHWM: getrusage's maxrss can carry the high-water
    mark of the parent that spawned this child (the bench's own, after its 1,000,000-bar HTTP runs)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_run(n: int) -> None:
    """Child process: one backtest on `n` bars; prints peak traced and resident memory."""
    bars = random_walk(n)
    strategy = build_strategy("sma_crossover", PARAMS)
    # Warm first: tracemalloc would otherwise slow numba's cache loading by an order of magnitude.
    run_backtest(random_walk(1000), strategy, CONFIG)
    tracemalloc.start()
    seconds, result = timed(lambda: run_backtest(bars, strategy, CONFIG))
    _, traced_peak = tracemalloc.get_traced_memory()
    rss_peak = peak_rss_bytes()
    print(
        f"{n:,} bars: {seconds:.2f} s, {len(result.trades):,} trades, peak traced (numpy) "
        f"{traced_peak / 2**30:.2f} GiB, peak RSS of the process {rss_peak / 2**30:.2f} GiB"
    )


def bench_grid(bars: dict[str, np.ndarray], n_bars: int) -> None:
    """The 100-combination SMA grid on 2 processes."""
    space = {"fast": ParamRange(start=5, stop=50, step=5), "slow": ParamRange(start=60, stop=150, step=10)}
    registry = StrategyRegistry.with_builtins()
    with open_executor(ExecutorConfig(workers=2), registry) as executor:
        run_optimization(  # start the workers (and load their compiled code) before timing
            {name: values[:5000] for name, values in bars.items()}, "sma_crossover", space, CONFIG,
            registry=registry, executor=executor,
        )  # fmt: skip
        grid_s, grid = timed(
            lambda: run_optimization(
                bars,
                "sma_crossover",
                space,
                CONFIG,
                registry=registry,
                executor=executor,
                fixed_params={"allow_short": False},
            )
        )
    print(f"grid of {grid.evaluated} combinations on {n_bars:,} bars, 2 processes: {grid_s:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--skip-reference", action="store_true", help="skip backtesting.py (slow)")
    parser.add_argument(
        "--repeat", type=int, default=20, help="timed runs of this engine (and of each stage)"
    )
    parser.add_argument("--skip-http", action="store_true", help="skip the HTTP end-to-end figure")
    parser.add_argument("--skip-grid", action="store_true", help="skip the 100-combination grid")
    parser.add_argument("--skip-memory", action="store_true", help="skip the 10x-bars memory figure")
    parser.add_argument("--skip-portfolio", action="store_true", help="skip the 4-symbol portfolio ratio")
    parser.add_argument("--skip-ticks", action="store_true", help="skip the tick and m1_ohlc model figures")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_run(args.memory_child)
        return

    bars = random_walk(args.bars)
    ours_s, ours = bench_engine(bars, args.repeat)

    vbt = bench_vectorbt(bars)
    if vbt is not None:
        vbt_s, vbt_trades = vbt
        assert np.array_equal(vbt_trades, ours), "vectorbt trades differ"
        print(
            f"vectorbt from_signals (warm): {spread_ms(vbt_s)} -> this engine (best vs best) is "
            f"{vbt_s.min() / ours_s:.1f}x as fast (trades identical)"
        )
    if not args.skip_reference:
        ref_s, ref_trades = bench_backtesting_py(bars)
        assert np.array_equal(ref_trades, ours), "backtesting.py trades differ"
        print(
            f"backtesting.py 0.6.6: {ref_s:.2f} s -> this engine (best) is {ref_s / ours_s:.0f}x as fast "
            f"(trades identical); 500x needs <= {ref_s / 500 * 1e3:.1f} ms"
        )

    if not args.skip_http:
        from bench.backtest_http import bench_http

        trades = bench_http(bars, PARAMS, CONFIG.initial_balance)["trades"]
        http_trades = np.c_[trades["entry_bar"], trades["exit_bar"], trades["size"]]
        assert np.array_equal(http_trades, ours), "trades through the HTTP API differ"

    if not args.skip_grid:
        bench_grid(bars, args.bars)
    if not args.skip_memory:
        child = [sys.executable, __file__, "--memory-child", str(10 * args.bars)]
        print(subprocess.run(child, check=True, capture_output=True, text=True).stdout.strip())
    if not args.skip_portfolio:
        from bench.backtest_portfolio import HOURS_PER_YEAR, bench_portfolio

        bench_portfolio(HOURS_PER_YEAR, args.repeat)
    if not args.skip_ticks:
        from bench.backtest_ticks import main as bench_ticks

        bench_ticks(["--m1-bars", str(args.bars), "--repeat", str(min(args.repeat, 5))])


if __name__ == "__main__":
    main()
