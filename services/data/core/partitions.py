"""Where a symbol's ticks live: time partitions ("month" | "day" | "none") and their storage layout.

Two layouts hold the same tables: one SQLite file per partition under a directory (the embedded default;
retention deletes files), or one table per partition inside a single database (a DATABASE_URL, e.g.
PostgreSQL). Symbols are encoded so any name maps to a safe, reversible file or table name.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
from sqlalchemy import Engine, inspect

from services.data.core.schema import tick_table
from shared.db import sqlite_engine

Granularity = Literal["month", "day", "none"]

_DAY_MS = 86_400_000
_ALL_KEY = "all"
_TABLE_PREFIX = "ticks"


@dataclass(frozen=True, slots=True)
class Partitioning:
    """Splits tick times into partitions; each partition is a half-open [start_ms, end_ms) span."""

    granularity: Granularity = "month"

    def starts(self, time_msc: np.ndarray) -> np.ndarray:
        """Partition start (epoch ms) of every tick time."""
        if self.granularity == "month":
            months = time_msc.astype("datetime64[ms]").astype("datetime64[M]")
            return months.astype("datetime64[ms]").astype(np.int64)
        if self.granularity == "day":
            return time_msc // _DAY_MS * _DAY_MS
        return np.zeros(len(time_msc), dtype=np.int64)

    def key(self, start_ms: int) -> str:
        """Name of the partition starting at `start_ms` ("2024-01", "2024-01-31" or "all")."""
        if self.granularity == "none":
            return _ALL_KEY
        d = datetime.fromtimestamp(start_ms / 1000, UTC)
        return f"{d:%Y-%m}" if self.granularity == "month" else f"{d:%Y-%m-%d}"

    def bounds(self, key: str) -> tuple[int, int]:
        """The [start_ms, end_ms) span of a partition name."""
        if key == _ALL_KEY:
            return (-(2**62), 2**62)
        start = np.datetime64(key)  # the unit (month or day) follows from the text
        as_ms = [int((start + step).astype("datetime64[ms]").astype(np.int64)) for step in (0, 1)]
        return as_ms[0], as_ms[1]


def encode_symbol(symbol: str) -> str:
    """ASCII letters and digits kept, any other byte as `_xx`; the result never contains "__"."""
    return "".join(chr(b) if chr(b).isalnum() and b < 128 else f"_{b:02x}" for b in symbol.encode())


def decode_symbol(encoded: str) -> str:
    """Inverse of `encode_symbol`."""
    out, i = bytearray(), 0
    while i < len(encoded):
        if encoded[i] == "_":
            out.append(int(encoded[i + 1 : i + 3], 16))
            i += 3
        else:
            out.append(ord(encoded[i]))
            i += 1
    return out.decode()


class PartitionLayout(Protocol):
    """Maps (symbol, partition key) to an engine and a table name."""

    def locate(self, symbol: str, key: str, *, create: bool) -> tuple[Engine, str] | None: ...
    def keys(self, symbol: str) -> list[str]: ...
    def symbols(self) -> list[str]: ...
    def drop(self, symbol: str, key: str) -> None: ...
    def size_bytes(self) -> int: ...
    def close(self) -> None: ...


class FileLayout:
    """One SQLite file per partition: `<root>/<encoded symbol>/<key>.sqlite`, table `ticks`."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._engines: dict[Path, Engine] = {}
        self._lock = threading.Lock()

    def _path(self, symbol: str, key: str) -> Path:
        return self._root / encode_symbol(symbol) / f"{key}.sqlite"

    def locate(self, symbol: str, key: str, *, create: bool) -> tuple[Engine, str] | None:
        path = self._path(symbol, key)
        with self._lock:
            engine = self._engines.get(path)
            if engine is None:
                if not create and not path.exists():
                    return None
                engine = sqlite_engine(path)
                tick_table(_TABLE_PREFIX).create(engine, checkfirst=True)
                self._engines[path] = engine
        return engine, _TABLE_PREFIX

    def keys(self, symbol: str) -> list[str]:
        return sorted(p.stem for p in (self._root / encode_symbol(symbol)).glob("*.sqlite"))

    def symbols(self) -> list[str]:
        if not self._root.exists():
            return []
        return sorted(decode_symbol(p.name) for p in self._root.iterdir() if p.is_dir())

    def drop(self, symbol: str, key: str) -> None:
        path = self._path(symbol, key)
        with self._lock:
            engine = self._engines.pop(path, None)
            if engine is not None:
                engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)

    def size_bytes(self) -> int:
        if not self._root.exists():
            return 0
        return sum(p.stat().st_size for p in self._root.rglob("*") if p.is_file())

    def close(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()


class TableLayout:
    """One table per partition in a single database: `ticks__<encoded symbol>__<key with _>`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._tables: set[str] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _name(symbol: str, key: str) -> str:
        return f"{_TABLE_PREFIX}__{encode_symbol(symbol)}__{key.replace('-', '_')}"

    def _known(self) -> set[str]:
        if self._tables is None:
            names = inspect(self._engine).get_table_names()
            self._tables = {n for n in names if n.startswith(f"{_TABLE_PREFIX}__")}
        return self._tables

    def locate(self, symbol: str, key: str, *, create: bool) -> tuple[Engine, str] | None:
        name = self._name(symbol, key)
        with self._lock:
            known = self._known()
            if name not in known:
                if not create:
                    return None
                tick_table(name).create(self._engine, checkfirst=True)
                known.add(name)
        return self._engine, name

    def _parsed(self) -> list[tuple[str, str]]:
        with self._lock:
            names = list(self._known())
        pairs = []
        for name in names:
            _, encoded, key = name.split("__")
            pairs.append((decode_symbol(encoded), key.replace("_", "-")))
        return pairs

    def keys(self, symbol: str) -> list[str]:
        return sorted(key for sym, key in self._parsed() if sym == symbol)

    def symbols(self) -> list[str]:
        return sorted({sym for sym, _ in self._parsed()})

    def drop(self, symbol: str, key: str) -> None:
        name = self._name(symbol, key)
        with self._lock:
            tick_table(name).drop(self._engine, checkfirst=True)
            self._known().discard(name)

    def size_bytes(self) -> int:
        return database_size_bytes(self._engine)

    def close(self) -> None:
        """The engine belongs to the caller; nothing to release."""


def database_size_bytes(engine: Engine) -> int:
    """Bytes on disk of the database behind an engine (SQLite file with its WAL, or PostgreSQL)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return int(connection.exec_driver_sql("SELECT pg_database_size(current_database())").scalar_one())
    database = engine.url.database
    if not database or database == ":memory:":
        return 0
    path = Path(database)
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
