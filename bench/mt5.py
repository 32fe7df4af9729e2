"""Benchmark of the mt5 service's simulated market. Prints figures; asserts nothing about time.

    .venv/bin/python bench/mt5.py [--symbol EURUSD] [--day 2025-11-19] [--repeat 5]

In-process figures: ticks generated per second for one symbol-day (target >= 1,000,000 ticks/s), and
bars built from them. Each section is a function of the parsed arguments returning its figures, so further
sections (ticks/s served over HTTP, JSON and binary, as a ratio of the in-process rate) are appended to
SECTIONS and can reuse the in-process rate from the shared results.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.mt5.core.simulated.market import DeterministicMarket
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import TIMEFRAMES

TARGET_TICKS_PER_S = 1_000_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Figure:
    """One measured number, with what it is compared against."""

    name: str
    value: float
    unit: str
    baseline: str = ""


Results = dict[str, float]
Section = Callable[[argparse.Namespace, Results], list[Figure]]


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    """The fastest of `repeat` runs (the least disturbed by the other processes on the machine)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def generation_section(args: argparse.Namespace, results: Results) -> list[Figure]:
    """Ticks generated per second for one symbol-day, from a fresh market each run (no cache helps)."""
    day_ms = int(datetime.fromisoformat(args.day).replace(tzinfo=UTC).timestamp() * 1000)
    DeterministicMarket(DEFAULT_SYMBOLS, seed=args.seed).ticks(
        args.symbol, day_ms, day_ms + DAY_MS
    )  # warm-up: imports, first allocations

    def one_day() -> object:
        return DeterministicMarket(DEFAULT_SYMBOLS, seed=args.seed).ticks(
            args.symbol, day_ms, day_ms + DAY_MS
        )

    seconds, ticks = best_of(args.repeat, one_day)
    count = len(ticks)  # type: ignore[arg-type]
    rate = count / seconds
    results["in_process_ticks_per_s"] = rate
    results["ticks_per_day"] = count

    market = DeterministicMarket(DEFAULT_SYMBOLS, seed=args.seed)
    h1 = TIMEFRAMES["H1"]
    cold, _ = best_of(
        1, lambda: market.rates_range(args.symbol, h1, day_ms // 1000, day_ms // 1000 + 86_399, 10**15)
    )
    warm, _ = best_of(
        args.repeat,
        lambda: market.rates_range(args.symbol, h1, day_ms // 1000, day_ms // 1000 + 86_399, 10**15),
    )
    return [
        Figure(f"ticks in one {args.symbol} day ({args.day})", count, "ticks"),
        Figure("generation time, one symbol-day", seconds * 1000, "ms"),
        Figure(
            "ticks generated per second",
            rate,
            "ticks/s",
            f"target {TARGET_TICKS_PER_S:,} ({rate / TARGET_TICKS_PER_S:.1f}x)",
        ),
        Figure("H1 bars of that day from ticks (cold)", cold * 1000, "ms"),
        Figure("H1 bars of that day from the M1 cache (warm)", warm * 1000, "ms"),
    ]


SECTIONS: list[Section] = [generation_section]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--symbol", default="EURUSD")
    parser.add_argument("--day", default="2025-11-19", help="a UTC trading day, ISO date")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results: Results = {}
    for section in SECTIONS:
        print(f"== {section.__doc__}")
        for figure in section(args, results):
            baseline = f"   [{figure.baseline}]" if figure.baseline else ""
            print(f"  {figure.name:<48} {figure.value:>14,.1f} {figure.unit}{baseline}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
