"""Data service benchmarks; prints each figure beside its baseline, measured in the same run.

    .venv/bin/python bench/data.py [--ticks 2000000] [--batch 10000] [--dir PATH]

1. Durable tick ingest (committed per batch) through TickStore against raw `sqlite3.executemany` into the
   same schema (WITHOUT ROWID, same pragmas) on the same disk. Targets: >= 300,000 ticks/s, >= 0.8x raw.
2. Tick -> bar conversion over the stored timeframes (bars_for_timeframes: the smallest timeframe from the
   ticks, the rest aggregated; baseline one ticks_to_bars pass per timeframe; the incremental builder).
   Target: >= 10,000,000 ticks/s.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.data.core.aggregation import bars_for_timeframes
from services.data.core.bar_store import DEFAULT_TIMEFRAMES
from services.data.core.incremental import IncrementalBarBuilder
from services.data.core.tick_store import TickStore, assign_seq
from shared.market.bars import ticks_to_bars
from shared.market.records import TICKS_DTYPE
from shared.market.timeframes import TIMEFRAMES

POINT = 0.00001
_RAW_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS ticks (time_msc INTEGER NOT NULL, seq INTEGER NOT NULL, bid REAL NOT NULL, "
    "ask REAL NOT NULL, last REAL NOT NULL, volume INTEGER NOT NULL, flags INTEGER NOT NULL, "
    "volume_real REAL NOT NULL, PRIMARY KEY (time_msc, seq)) WITHOUT ROWID"
)


def synthetic_ticks(n: int, seed: int = 1) -> np.ndarray:
    """A market-like stream inside one month: ~5 ticks/s, some sharing a millisecond."""
    rng = np.random.default_rng(seed)
    ticks = np.zeros(n, dtype=TICKS_DTYPE)
    ticks["time_msc"] = 1_704_067_200_000 + np.cumsum(rng.integers(0, 400, n))
    ticks["time"] = ticks["time_msc"] // 1000
    ticks["bid"] = np.round(1.1 + np.cumsum(rng.integers(-3, 4, n)) * POINT, 5)
    ticks["ask"] = np.round(ticks["bid"] + rng.integers(5, 20, n) * POINT, 5)
    ticks["flags"] = 6
    return ticks


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def ingest_tick_store(ticks: np.ndarray, batch: int, root: Path) -> float:
    store = TickStore.in_directory(root)
    try:
        return timed(
            lambda: [store.insert_batch("EURUSD", ticks[i : i + batch]) for i in range(0, len(ticks), batch)]
        )
    finally:
        store.close()


def ingest_raw_sqlite(ticks: np.ndarray, batch: int, path: Path) -> float:
    connection = sqlite3.connect(path)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "temp_store=MEMORY", "cache_size=-65536"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute(_RAW_SCHEMA)
    sql = "INSERT OR IGNORE INTO ticks VALUES (?, ?, ?, ?, ?, ?, ?, ?)"

    def run() -> None:
        for i in range(0, len(ticks), batch):
            part = ticks[i : i + batch]
            seq = assign_seq(part["time_msc"])
            names = ("bid", "ask", "last", "volume", "flags", "volume_real")
            rows = zip(
                part["time_msc"].tolist(), seq.tolist(), *(part[n].tolist() for n in names), strict=True
            )
            connection.executemany(sql, rows)
            connection.commit()

    try:
        return timed(run)
    finally:
        connection.close()


def bench_ingest(ticks: np.ndarray, batch: int, root: Path, repeat: int) -> None:
    n = len(ticks)
    # Alternate the two, each into a fresh database, and keep the best of each (the machine is shared).
    raw_s = store_s = float("inf")
    for i in range(repeat):
        raw_s = min(raw_s, ingest_raw_sqlite(ticks, batch, root / f"raw{i}.sqlite"))
        store_s = min(store_s, ingest_tick_store(ticks, batch, root / f"store{i}"))
    print(f"durable tick ingest, {n:,} ticks in batches of {batch:,} (one commit each), best of {repeat}")
    print(f"  TickStore.insert_batch       {n / store_s:>14,.0f} ticks/s   ({store_s:.2f} s)")
    print(f"  raw sqlite3.executemany      {n / raw_s:>14,.0f} ticks/s   ({raw_s:.2f} s)")
    print(
        f"  ratio store/raw              {raw_s / store_s:>14.2f}"
        "          (target >= 0.80; >= 300,000 ticks/s)"
    )


def bench_conversion(ticks: np.ndarray) -> None:
    timeframes = [TIMEFRAMES[name] for name in DEFAULT_TIMEFRAMES]
    n = len(ticks)
    all_s = min(timed(lambda: bars_for_timeframes(ticks, timeframes, POINT)) for _ in range(3))
    naive_s = min(timed(lambda: [ticks_to_bars(ticks, tf, POINT) for tf in timeframes]) for _ in range(3))
    builder = IncrementalBarBuilder(timeframes, POINT)
    batch = 1_000
    incremental_s = timed(lambda: [builder.feed(ticks[i : i + batch]) for i in range(0, n, batch)])
    print(
        f"tick -> bar conversion, {n:,} ticks into {len(timeframes)} timeframes"
        f" ({','.join(DEFAULT_TIMEFRAMES)})"
    )
    print(f"  bars_for_timeframes          {n / all_s:>14,.0f} ticks/s   (target >= 10,000,000)")
    print(
        f"  ticks_to_bars per timeframe  {n / naive_s:>14,.0f} ticks/s   (baseline: one pass per timeframe)"
    )
    print(
        f"  IncrementalBarBuilder        {n / incremental_s:>14,.0f} ticks/s   (batches of {batch:,} ticks)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=2_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", type=Path, default=None, help="where the databases go (default: a temp dir)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-data-", dir=args.dir))
    try:
        ticks = synthetic_ticks(args.ticks)
        bench_ingest(ticks, args.batch, root, args.repeat)
        bench_conversion(ticks)
        # HTTP figures (added by the lead once the service runs): reading 1,000,000 M1 bars over HTTP in
        # JSON and in binary (seconds), and gap fill of one year of M1 bars for one symbol (seconds).
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
