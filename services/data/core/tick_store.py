"""Tick storage: idempotent batch ingest and transparent range reads over time partitions.

A batch is a run of ticks for one symbol sorted by time, as the terminal returns a range. Each tick gets
`seq`, its index within its millisecond, so a batch must begin at the start of its first millisecond
(a terminal range from that ms does), or pass `first_seq` when it continues one. Partitions of a batch
commit in time order, so after a crash the last stored tick always has every earlier tick stored too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
from sqlalchemy import Engine, and_, func, or_, select

from services.data.core.partitions import FileLayout, Granularity, Partitioning, PartitionLayout, TableLayout
from services.data.core.schema import tick_table
from services.data.core.sql import (
    CompiledStatement,
    compile_statement,
    execute_many,
    fetch_all,
    insert_ignore,
)
from shared.errors import InvalidInputError
from shared.market.records import TICKS_DTYPE

_READ_COLUMNS = ("time_msc", "bid", "ask", "last", "volume", "flags", "volume_real", "seq")
_ROW_DTYPE = np.dtype([(name, TICKS_DTYPE[name] if name != "seq" else np.int64) for name in _READ_COLUMNS])


class TickCursor(NamedTuple):
    """Position of one stored tick: its millisecond and its index within it."""

    time_msc: int
    seq: int


class PartitionStats(NamedTuple):
    """Row count and time span of one partition."""

    key: str
    rows: int
    first_msc: int | None
    last_msc: int | None


def assign_seq(time_msc: np.ndarray, first_seq: int = 0) -> np.ndarray:
    """Index of each tick within its millisecond; `first_seq` offsets the batch's first millisecond."""
    n = len(time_msc)
    new_ms = np.empty(n, dtype=bool)
    new_ms[:1] = True
    np.not_equal(time_msc[1:], time_msc[:-1], out=new_ms[1:])
    starts = np.flatnonzero(new_ms)
    seq = np.arange(n, dtype=np.int64) - starts[np.cumsum(new_ms) - 1]
    first_run = starts[1] if len(starts) > 1 else n
    seq[:first_run] += first_seq
    return seq


class TickStore:
    """Ticks per symbol in time partitions; reads span partitions as if they were one table."""

    def __init__(self, layout: PartitionLayout, partitioning: Partitioning) -> None:
        self._layout = layout
        self._partitioning = partitioning
        self._insert_sql: dict[tuple[int, str], CompiledStatement] = {}

    @classmethod
    def in_directory(cls, root: Path, granularity: Granularity = "month") -> TickStore:
        """The embedded default: one SQLite file per symbol and partition under `root`."""
        return cls(FileLayout(root), Partitioning(granularity))

    @classmethod
    def in_database(cls, engine: Engine, granularity: Granularity = "month") -> TickStore:
        """One table per symbol and partition in the database behind `engine` (e.g. PostgreSQL)."""
        return cls(TableLayout(engine), Partitioning(granularity))

    @property
    def partitioning(self) -> Partitioning:
        return self._partitioning

    def _compiled_insert(self, engine: Engine, table: str) -> CompiledStatement:
        cache_key = (id(engine), table)
        compiled = self._insert_sql.get(cache_key)
        if compiled is None:
            compiled = insert_ignore(tick_table(table), engine.dialect)
            self._insert_sql[cache_key] = compiled
        return compiled

    def insert_batch(self, symbol: str, ticks: np.ndarray, first_seq: int = 0) -> int:
        """Store ticks (TICKS_DTYPE, time-sorted); returns how many were new (re-inserts are ignored)."""
        if len(ticks) == 0:
            return 0
        time_msc = np.ascontiguousarray(ticks["time_msc"], dtype=np.int64)
        if np.any(time_msc[1:] < time_msc[:-1]):
            raise InvalidInputError("ticks must be sorted by time_msc", details={"symbol": symbol})
        seq = assign_seq(time_msc, first_seq)
        starts = self._partitioning.starts(time_msc)
        cuts = np.flatnonzero(starts[1:] != starts[:-1]) + 1
        inserted = 0
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(ticks)], strict=True):
            located = self._layout.locate(symbol, self._partitioning.key(int(starts[lo])), create=True)
            assert located is not None  # create=True always yields a table
            engine, table = located
            compiled = self._compiled_insert(engine, table)
            part = ticks[lo:hi]
            columns = {
                "time_msc": time_msc[lo:hi].tolist(),
                "seq": seq[lo:hi].tolist(),
                **{
                    name: part[name].tolist()
                    for name in ("bid", "ask", "last", "volume", "flags", "volume_real")
                },
            }
            inserted += execute_many(engine, [(compiled, compiled.rows(columns))])
        return inserted

    def _keys_overlapping(self, symbol: str, from_ms: int, to_ms: int) -> list[str]:
        keys = []
        for key in self._layout.keys(symbol):
            start, end = self._partitioning.bounds(key)
            if start < to_ms and end > from_ms:
                keys.append(key)
        return keys

    def _read_rows(
        self, symbol: str, from_ms: int, to_ms: int, limit: int | None, after_seq: int | None
    ) -> np.ndarray:
        chunks: list[np.ndarray] = []
        remaining = limit
        for key in self._keys_overlapping(symbol, from_ms, to_ms):
            if remaining is not None and remaining <= 0:
                break
            located = self._layout.locate(symbol, key, create=False)
            if located is None:
                continue
            engine, name = located
            table = tick_table(name)
            c = table.c
            lower = c.time_msc >= from_ms
            if after_seq is not None:
                lower = or_(c.time_msc > from_ms, and_(c.time_msc == from_ms, c.seq > after_seq))
            stmt = (
                select(*(c[col] for col in _READ_COLUMNS))
                .where(lower, c.time_msc < to_ms)
                .order_by(c.time_msc, c.seq)
            )
            if remaining is not None:
                stmt = stmt.limit(remaining)
            rows = fetch_all(engine, compile_statement(stmt, engine.dialect))
            if rows:
                chunks.append(np.array(rows, dtype=_ROW_DTYPE))
                if remaining is not None:
                    remaining -= len(rows)
        return np.concatenate(chunks) if chunks else np.empty(0, _ROW_DTYPE)

    def read_range(self, symbol: str, from_ms: int, to_ms: int, limit: int | None = None) -> np.ndarray:
        """Ticks with from_ms <= time_msc < to_ms in stored order (TICKS_DTYPE), at most `limit`."""
        return _to_ticks(self._read_rows(symbol, from_ms, to_ms, limit, None))

    def read_after(
        self, symbol: str, cursor: TickCursor, to_ms: int = 2**62, limit: int | None = None
    ) -> np.ndarray:
        """Ticks strictly after `cursor` and before `to_ms` (replaying what a builder has not seen)."""
        return _to_ticks(self._read_rows(symbol, cursor.time_msc, to_ms, limit, cursor.seq))

    def iter_after(
        self, symbol: str, cursor: TickCursor | None, chunk_size: int = 500_000
    ) -> Iterator[tuple[np.ndarray, TickCursor]]:
        """Every tick after `cursor` (all when None) in chunks, each with the cursor of its last tick."""
        position = cursor if cursor is not None else TickCursor(-(2**62), -1)
        while True:
            rows = self._read_rows(symbol, position.time_msc, 2**62, chunk_size, position.seq)
            if len(rows) == 0:
                return
            position = TickCursor(int(rows["time_msc"][-1]), int(rows["seq"][-1]))
            yield _to_ticks(rows), position

    def _last_row(self, symbol: str) -> tuple[int, ...] | None:
        for key in reversed(self._layout.keys(symbol)):
            located = self._layout.locate(symbol, key, create=False)
            if located is None:
                continue
            engine, name = located
            c = tick_table(name).c
            stmt = (
                select(*(c[col] for col in _READ_COLUMNS)).order_by(c.time_msc.desc(), c.seq.desc()).limit(1)
            )
            rows = fetch_all(engine, compile_statement(stmt, engine.dialect))
            if rows:
                return tuple(rows[0])
        return None

    def last_tick(self, symbol: str) -> np.void | None:
        """The newest stored tick (collection resumes from its millisecond), or None."""
        row = self._last_row(symbol)
        return None if row is None else _to_ticks(np.array([row], dtype=_ROW_DTYPE))[0]

    def last_cursor(self, symbol: str) -> TickCursor | None:
        """Millisecond and seq of the newest stored tick, or None."""
        row = self._last_row(symbol)
        return None if row is None else TickCursor(int(row[0]), int(row[-1]))

    def drop_before(self, symbol: str, t_ms: int) -> list[str]:
        """Retention: delete every whole partition ending at or before `t_ms`; returns their keys."""
        dropped = [key for key in self._layout.keys(symbol) if self._partitioning.bounds(key)[1] <= t_ms]
        for key in dropped:
            self._layout.drop(symbol, key)
        return dropped

    def symbols(self) -> list[str]:
        """Symbols with at least one partition."""
        return self._layout.symbols()

    def partition_stats(self, symbol: str) -> list[PartitionStats]:
        """Rows and first/last tick time of each partition of a symbol."""
        stats = []
        for key in self._layout.keys(symbol):
            located = self._layout.locate(symbol, key, create=False)
            if located is None:
                continue
            engine, name = located
            c = tick_table(name).c
            stmt = select(func.count(), func.min(c.time_msc), func.max(c.time_msc))
            rows, first, last = fetch_all(engine, compile_statement(stmt, engine.dialect))[0]
            stats.append(PartitionStats(key, int(rows), first, last))
        return stats

    def size_bytes(self) -> int:
        """Bytes on disk of the tick partitions."""
        return self._layout.size_bytes()

    def close(self) -> None:
        """Release the partition engines this store opened."""
        self._layout.close()


def _to_ticks(rows: np.ndarray) -> np.ndarray:
    ticks = np.empty(len(rows), dtype=TICKS_DTYPE)
    for name in _READ_COLUMNS[:-1]:
        ticks[name] = rows[name]
    ticks["time"] = rows["time_msc"] // 1000
    return ticks
