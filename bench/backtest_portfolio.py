"""Portfolio benchmark: a 4-symbol portfolio (EURUSD, GBPUSD, USDJPY, XAUUSD; SMA(10,20) crossover,
0.1 lots each) over a year of H1 bars on one USD account, against the four single-symbol backtests of the
same legs run one after another (warm, in-process). Prints figures; asserts no timings. Run alone or from
bench/backtest.py.

    .venv/bin/python bench/backtest_portfolio.py [--hours 6240] [--repeat 20]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.backtesting.core import BacktestConfig, SymbolFacts, run_backtest
from services.backtesting.core.engine import simulate_signals
from services.backtesting.core.portfolio import Leg, PortfolioConfig, leg_inputs, run_portfolio, walk_legs
from services.backtesting.core.portfolio_money import Currencies, Quotes, leg_money
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.trading import SizingConfig, SizingMode, build_strategy

SYMBOLS = ("EURUSD", "GBPUSD", "USDJPY", "XAUUSD")
HOURS_PER_YEAR = 24 * 260  # a year of FX trading days
SIZING = SizingConfig(mode=SizingMode.FIXED, value=0.1)
CONFIG = PortfolioConfig(initial_balance=1_000_000.0, leverage=100)


def hourly_walk(base: float, n: int, seed: int) -> dict[str, np.ndarray]:
    """H1 bars of a geometric random walk from `base`."""
    rng = np.random.default_rng(seed)
    close = base * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    open_ = np.r_[base, close[:-1]]
    wiggle = np.abs(rng.normal(0.0, 0.001, n)) * close
    return {
        "time": 1_600_000_000 + 3600 * np.arange(n, dtype=np.int64),
        "open": open_,
        "high": np.maximum(open_, close) + wiggle,
        "low": np.minimum(open_, close) - wiggle,
        "close": close,
    }


def portfolio_legs(n: int) -> list[Leg]:
    """The four legs, each on its own walk, money converted as the paper broker does."""
    specs = {s.name: s for s in DEFAULT_SYMBOLS}
    bars = {name: hourly_walk(specs[name].base_price, n, seed) for seed, name in enumerate(SYMBOLS)}
    currencies = {
        name: Currencies(
            base=specs[name].currency_base,
            profit=specs[name].currency_profit,
            margin=specs[name].currency_margin,
            contract_size=specs[name].contract_size,
        )
        for name in SYMBOLS
    }
    quotes = {name: Quotes(currencies[name], b["time"], b["close"]) for name, b in bars.items()}
    strategy = build_strategy("sma_crossover", {"fast": 10, "slow": 20})
    legs = []
    for i, name in enumerate(SYMBOLS):
        facts = SymbolFacts.from_spec(specs[name])
        money = leg_money(currencies[name], facts, "USD", bars[name]["time"], quotes, f"legs.{i}")
        legs.append(Leg(name, name, strategy, bars[name], facts, SIZING, money, 3600))
    return legs


def best_of(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Best seconds of `repeat` calls, and the last call's value."""
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def bench_portfolio(hours: int, repeat: int) -> None:
    """Best of `repeat` portfolio runs against the best of `repeat` rounds of four single runs: whole runs
    (signals, loop, trades and metrics), then the compiled loops alone."""
    legs = portfolio_legs(hours)
    configs = [
        BacktestConfig(
            initial_balance=CONFIG.initial_balance, leverage=CONFIG.leverage, sizing=SIZING, symbol=leg.facts
        )
        for leg in legs
    ]
    pairs = list(zip(legs, configs, strict=True))
    cols, signals, starts = leg_inputs(legs)

    def singles() -> int:
        return sum(len(run_backtest(leg.bars, leg.strategy, config).trades) for leg, config in pairs)

    def single_loops() -> int:
        runs = [
            simulate_signals(c, s, config, k)
            for c, s, config, k in zip(cols, signals, configs, starts, strict=True)
        ]
        return sum(len(records) for _equity, records, _skipped in runs)

    singles(), single_loops(), run_portfolio(legs, CONFIG)  # warm: load the numba caches
    singles_s, _ = best_of(singles, repeat)
    portfolio_s, result = best_of(lambda: run_portfolio(legs, CONFIG), repeat)
    loops_s, _ = best_of(single_loops, repeat)
    walk_s, _ = best_of(lambda: walk_legs(legs, CONFIG, cols, signals, starts), repeat)
    events = sum(len(c["close"]) for c in cols)
    # Margin never binds here, so each leg trades as its single run does (its P&L differs only by the
    # conversion: USDJPY's is booked at each exit's rate, the single run's at the built-in tick value).
    for (leg, config), leg_result in zip(pairs, result.legs, strict=True):
        single = run_backtest(leg.bars, leg.strategy, config).trades
        assert np.array_equal(single.entry_bar, leg_result.trades.entry_bar), f"{leg.label} trades differ"
        assert np.array_equal(single.exit_bar, leg_result.trades.exit_bar), f"{leg.label} trades differ"
    print(
        f"portfolio of {len(legs)} symbols x {hours:,} H1 bars ({len(result.combined.trades):,} trades, one "
        f"account, the same entries and exits as the four single runs), best of {repeat}:"
    )
    print(
        f"  whole run: portfolio {portfolio_s * 1e3:.2f} ms (4 legs + combined results, correlation) vs four "
        f"single-symbol backtests {singles_s * 1e3:.2f} ms -> ratio {portfolio_s / singles_s:.2f}"
    )
    print(
        f"  compiled loop: shared-account walk of {events:,} merged bars {walk_s * 1e3:.2f} ms "
        f"({events / walk_s / 1e6:.1f} M bars/s) vs four fill loops {loops_s * 1e3:.2f} ms -> ratio "
        f"{walk_s / loops_s:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hours", type=int, default=HOURS_PER_YEAR, help="H1 bars per symbol")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    bench_portfolio(args.hours, args.repeat)


if __name__ == "__main__":
    main()
