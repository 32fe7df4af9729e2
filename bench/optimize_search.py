"""TPE against a grid: a 1,000-combination grid of SMA crossover periods over 1,000,000 bars and a TPE
study of 200 trials over the same space (seeded), both on the same local executor (`workers` processes;
TPE asks two trials per worker at a time). Prints the best Sharpe each found and TPE's as a ratio of the grid's (target >= 0.95 at a fifth of
the work); asserts no figure. `bench/optimize.py` calls `tpe_vs_grid()`; run alone it prints the figures.

Two series: `cycle`, a random walk with a 1,500-bar cycle of +-1 % in it (something for a search to find:
the target is measured here), and `walk`, the pure random walk, where every Sharpe is noise and the grid's
best is a lucky outlier that no sampler finds except by chance (printed as the caveat it is).

    .venv/bin/python bench/optimize_search.py [--bars 1000000] [--trials 200] [--workers 2] [--seed 0]
        [--series cycle walk]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.backtesting.core import BacktestConfig, ParamRange, run_optimization
from services.backtesting.core.executors import ExecutorConfig, open_executor
from services.backtesting.core.optimize import Objective
from services.backtesting.core.search import run_search
from services.backtesting.core.studies import SearchPlan
from shared.trading import StrategyRegistry

# 10 x 100 = 1,000 combinations, all valid (fast < slow everywhere).
SPACE = {"fast": ParamRange(start=5, stop=50, step=5), "slow": ParamRange(start=55, stop=550, step=5)}
CONFIG = BacktestConfig(initial_balance=1_000_000.0)
STRATEGY = "sma_crossover"


@dataclass(frozen=True, slots=True)
class TpeVsGrid:
    grid_combinations: int
    grid_best_sharpe: float
    grid_s: float
    tpe_trials: int
    tpe_best_sharpe: float
    tpe_s: float

    @property
    def ratio(self) -> float:
        """TPE's best Sharpe as a share of the grid's (the grid holds every point TPE can pick)."""
        return self.tpe_best_sharpe / self.grid_best_sharpe


def random_walk(n: int, seed: int = 42) -> dict[str, np.ndarray]:
    """Minute bars of a geometric random walk (bench/backtest.py's series)."""
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


def with_cycle(
    series: dict[str, np.ndarray], period: int = 1500, amplitude: float = 0.01
) -> dict[str, np.ndarray]:
    """`series` with its prices multiplied by a slow sine wave: a pattern moving averages can trade."""
    wave = np.exp(amplitude * np.sin(2 * np.pi * np.arange(len(series["close"])) / period))
    return {k: v * wave if k in ("open", "high", "low", "close") else v for k, v in series.items()}


def tpe_vs_grid(
    bars: int = 1_000_000, trials: int = 200, workers: int = 2, seed: int = 0, series_name: str = "cycle"
) -> TpeVsGrid:
    """The grid's and TPE's best Sharpe ratio and wall time on `bars` bars of the `cycle` or `walk` series."""
    series = random_walk(bars)
    if series_name == "cycle":
        series = with_cycle(series)
    registry = StrategyRegistry.with_builtins()
    plan = SearchPlan(
        sampler="tpe", objectives=(Objective(metric="sharpe_ratio"),), n_trials=trials, seed=seed
    )
    with open_executor(ExecutorConfig(workers=workers), registry) as pool:
        t0 = time.perf_counter()
        grid = run_optimization(
            series, STRATEGY, SPACE, CONFIG, registry=registry, metric="sharpe_ratio", top_n=1, executor=pool
        )
        grid_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        tpe = run_search(
            series, STRATEGY, SPACE, CONFIG, registry=registry, plan=plan, top_n=1, executor=pool
        )
        tpe_s = time.perf_counter() - t0
    return TpeVsGrid(
        grid_combinations=grid.evaluated + grid.invalid,
        grid_best_sharpe=float(grid.top[0].score or float("nan")),
        grid_s=grid_s,
        tpe_trials=tpe.evaluated + tpe.invalid,
        tpe_best_sharpe=float(tpe.top[0].score or float("nan")),
        tpe_s=tpe_s,
    )


def report(figures: TpeVsGrid, series_name: str = "cycle") -> None:
    """Print the figures and the target."""
    print(f"-- {series_name} series --")
    print(
        f"grid: {figures.grid_combinations:,} combinations, best Sharpe {figures.grid_best_sharpe:.4f}, "
        f"{figures.grid_s:.1f} s"
    )
    print(
        f"TPE:  {figures.tpe_trials:,} trials, best Sharpe {figures.tpe_best_sharpe:.4f}, {figures.tpe_s:.1f} s"
    )
    print(
        f"TPE / grid best Sharpe: {figures.ratio:.3f} (target >= 0.95) at "
        f"{figures.tpe_trials / figures.grid_combinations:.0%} of the work"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--series", nargs="+", choices=["cycle", "walk"], default=["cycle", "walk"])
    args = parser.parse_args()
    for name in args.series:
        report(tpe_vs_grid(args.bars, args.trials, args.workers, args.seed, name), name)


if __name__ == "__main__":
    main()
