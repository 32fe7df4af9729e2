"""Benchmark of the mt5 service's simulated market. Prints figures; asserts nothing about time.

    .venv/bin/python bench/mt5.py [--symbol EURUSD] [--day 2025-11-19] [--repeat 5]

In-process figures: ticks generated per second for one symbol-day (target >= 1,000,000 ticks/s), and
bars built from them. Over HTTP: the mt5 service started as a process (`python -m services.mt5`, replay
clock after the day), ticks/s of `GET /ticks` for that day in JSON and in Arrow IPC, each measured from
the request to a decoded numpy array, as a ratio of the in-process rate (target: Arrow >= 0.5x). Each
section is a function of the parsed arguments returning its figures; later sections reuse earlier results.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.mt5.core.simulated.market import DeterministicMarket
from shared.columnar import decode_arrow, from_columns
from shared.config import PROJECT_ROOT
from shared.market.records import TICKS_DTYPE
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


@contextmanager
def running_mt5_service(seed: int, replay_start_ms: int) -> Iterator[httpx.Client]:
    """`python -m services.mt5` on a temp config and a free port; a client with its internal token."""
    with tempfile.TemporaryDirectory(prefix="bench-mt5-") as directory:
        config = json.loads((PROJECT_ROOT / "config.json").read_text())
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        config["services"]["mt5"]["port"] = port
        config["mt5"] = {
            "simulated": {"seed": seed, "clock": "replay", "replay_start": replay_start_ms // 1000},
            "tick_event_interval_ms": 0,
        }
        path = Path(directory) / "config.json"
        path.write_text(json.dumps(config))
        token = secrets.token_urlsafe(16)
        env = {**os.environ, "MT5P_CONFIG": str(path), "MT5P_INTERNAL_TOKEN": token}
        process = subprocess.Popen(
            [sys.executable, "-m", "services.mt5"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"X-Internal-Token": token}, timeout=120
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if client.get("/health").json()["checks"]["terminal"]["ok"]:
                        break
                except (httpx.HTTPError, ValueError, KeyError):
                    pass
                time.sleep(0.1)
            else:
                raise RuntimeError("the mt5 service did not become healthy within 60 s")
            yield client
        finally:
            client.close()
            process.terminate()
            process.wait(30)


def http_section(args: argparse.Namespace, results: Results) -> list[Figure]:
    """Ticks/s served by GET /ticks for one symbol-day over HTTP (service as a process), to a numpy array."""
    day_ms = int(datetime.fromisoformat(args.day).replace(tzinfo=UTC).timestamp() * 1000)
    in_process = results["in_process_ticks_per_s"]
    path = f"/ticks/{args.symbol}?from={day_ms}&to={day_ms + DAY_MS - 1}"
    decoders: dict[str, Callable[[bytes], object]] = {
        "arrow": lambda body: decode_arrow(body, TICKS_DTYPE),
        "json": lambda body: from_columns(orjson.loads(body)["columns"], TICKS_DTYPE),
    }
    figures = []
    with running_mt5_service(args.seed, day_ms + 2 * DAY_MS) as client:
        for fmt, decode in decoders.items():

            def fetch(fmt: str = fmt, decode: Callable[[bytes], object] = decode) -> object:
                response = client.get(f"{path}&format={fmt}")
                response.raise_for_status()
                return decode(response.content)

            fetch()  # warm-up: first-request imports and allocations in the service
            seconds, ticks = best_of(args.repeat, fetch)
            rate = len(ticks) / seconds  # type: ignore[arg-type]
            target = " (target >= 0.5x)" if fmt == "arrow" else ""
            figures.append(
                Figure(
                    f"GET /ticks one day, {fmt} -> array",
                    rate,
                    "ticks/s",
                    f"{rate / in_process:.2f}x in-process{target}; {seconds * 1000:.0f} ms",
                )
            )
    return figures


SECTIONS: list[Section] = [generation_section, http_section]


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
