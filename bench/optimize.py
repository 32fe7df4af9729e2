"""Optimisation benchmark: a 1,000-combination SMA grid (fast 2..51 x slow 60..250 by 10) over 1,000,000
random-walk bars, on the local executor with 1 and 2 worker processes (scaling ratio, and the wall time
against the 10 s target), then on a local Ray instance with 2 CPUs against the 2-process pool; then TPE
against the grid (bench/optimize_search.py, both series). Workers are started (and Ray connected) before
timing: what is measured is the search, not the process start. Prints figures; asserts no timings.

    .venv/bin/python bench/optimize.py [--bars 1000000] [--fast-values 50] [--skip-ray] [--skip-search]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.backtest import CONFIG, random_walk
from bench.optimize_search import report, tpe_vs_grid
from services.backtesting.core import OptimizationResult, ParamRange, run_optimization
from services.backtesting.core.executors import ExecutorConfig, TrialExecutor, open_executor
from services.backtesting.core.executors.local import LocalExecutor
from shared.trading import StrategyRegistry

REGISTRY = StrategyRegistry.with_builtins()
GRID_TARGET_S = 10.0


def grid_space(fast_values: int) -> dict[str, ParamRange]:
    """`fast_values` x 20 combinations, every one valid (fast < 60 <= slow)."""
    return {
        "fast": ParamRange(start=2, stop=1 + fast_values, step=1),
        "slow": ParamRange(start=60, stop=250, step=10),
    }


def cpu_times() -> dict[int, float]:
    """CPU seconds used so far by this process and each live descendant (pool workers, a local Ray)."""
    times = {0: time.process_time()}
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            used = child.cpu_times()
            times[child.pid] = used.user + used.system
    return times


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two `cpu_times`, over the processes alive at the end (a pool closed before
    the search may still be exiting when it starts)."""
    return sum(used - before.get(pid, 0.0) for pid, used in after.items())


def timed_search(
    executor: TrialExecutor, bars: dict, space: dict[str, ParamRange]
) -> tuple[float, float, OptimizationResult]:
    """Wall and CPU seconds of one search. Other load on the machine inflates the CPU seconds far less
    than the wall time (on two idle cores the wall time is about CPU / 2)."""
    t0, cpu0 = time.perf_counter(), cpu_times()
    result = run_optimization(
        bars,
        "sma_crossover",
        space,
        CONFIG,
        registry=REGISTRY,
        executor=executor,
        fixed_params={"allow_short": False},
    )
    return time.perf_counter() - t0, cpu_used(cpu0, cpu_times()), result


def warm(executor: TrialExecutor, bars: dict) -> None:
    """Start every worker and load its compiled code on a small search first."""
    small = {name: values[:5000] for name, values in bars.items()}
    timed_search(executor, small, grid_space(executor.workers * 4))


def bench_local(bars: dict, space: dict[str, ParamRange]) -> tuple[float, OptimizationResult]:
    """The pool with 1 and 2 processes (a pool of one, not in-process, so both pay the same transport)."""
    seconds: dict[int, float] = {}
    result = None
    for workers in (1, 2):
        pool = LocalExecutor(workers, None, ExecutorConfig().cache_bytes)
        try:
            warm(pool, bars)
            seconds[workers], cpu, result = timed_search(pool, bars, space)
        finally:
            pool.close()
        print(
            f"local, {workers} worker process{'es' if workers > 1 else ''}: {seconds[workers]:.2f} s "
            f"({result.evaluated:,} combinations), CPU {cpu / result.evaluated * 1e3:.1f} ms per combination"
        )
    assert result is not None
    print(
        f"  scaling 2 vs 1 workers: {seconds[1] / seconds[2]:.2f}x (target >= 1.8x); "
        f"2 workers {seconds[2]:.2f} s vs the {GRID_TARGET_S:.0f} s target"
    )
    return seconds[2], result


def bench_ray(bars: dict, space: dict[str, ParamRange], local_s: float, local: OptimizationResult) -> None:
    try:
        import ray
    except ImportError:
        print("ray: not installed, skipped (pip install '.[ray]')")
        return
    session_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths must fit
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=session_dir)
    try:
        with open_executor(ExecutorConfig(kind="ray"), REGISTRY) as executor:
            warm(executor, bars)
            seconds, cpu, result = timed_search(executor, bars, space)
    finally:
        ray.shutdown()
        shutil.rmtree(session_dir, ignore_errors=True)
    assert result == local, "Ray's ranking differs from the local pool's"
    print(
        f"ray, local instance with 2 CPUs: {seconds:.2f} s -> {local_s / seconds:.2f}x the 2-process "
        f"pool's speed (target >= 0.8x; results identical), CPU {cpu / result.evaluated * 1e3:.1f} ms per "
        "combination (Ray's own processes included)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--fast-values", type=int, default=50, help="grid size / 20")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--skip-search", action="store_true", help="skip TPE vs grid")
    args = parser.parse_args()

    bars = random_walk(args.bars)
    space = grid_space(args.fast_values)
    local_s, local = bench_local(bars, space)
    if not args.skip_ray:
        bench_ray(bars, space, local_s, local)
    if not args.skip_search:
        for series in ("cycle", "walk"):
            report(tpe_vs_grid(args.bars, series_name=series), series)


if __name__ == "__main__":
    main()
