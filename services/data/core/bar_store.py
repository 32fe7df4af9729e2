"""Bar storage: upserts by (symbol, timeframe, time), range reads, and higher timeframes built on read.

Also keeps, in the same catalog, the gap marks (ranges the terminal has no data for) and each symbol's
bar cursor: the last tick whose effect the stored bars include, saved in the same transaction as the
bars so a restarted incremental builder replays exactly the ticks after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
from sqlalchemy import Engine, and_, delete, func, select

from services.data.core.aggregation import best_source, ceil_open
from services.data.core.completeness import CompletenessReport, completeness
from services.data.core.partitions import database_size_bytes
from services.data.core.schema import bar_cursors, bars, migrate, unfillable_ranges
from services.data.core.sql import CompiledStatement, compile_statement, execute_many, fetch_all, upsert
from services.data.core.tick_store import TickCursor
from shared.db import sqlite_engine
from shared.errors import InvalidInputError
from shared.market.bars import aggregate_bars
from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.records import RATES_DTYPE
from shared.market.timeframes import Timeframe, get_timeframe

BarSource = Literal["ticks", "terminal", "import"]
DEFAULT_TIMEFRAMES = ("M1", "M5", "M15", "M30", "H1", "H4", "D1")
_BAR_COLUMNS = RATES_DTYPE.names or ()
_FAR_FUTURE_S = 2**40


class BarStats(NamedTuple):
    """Rows and first/last bar open of one symbol x timeframe."""

    symbol: str
    timeframe: str
    rows: int
    first_time: int
    last_time: int


class BarStore:
    """Bars of every stored timeframe in one catalog database (SQLite file or DATABASE_URL)."""

    def __init__(self, engine: Engine, stored_timeframes: Sequence[str] = DEFAULT_TIMEFRAMES) -> None:
        self._engine = engine
        self.stored_timeframes = [get_timeframe(name).name for name in stored_timeframes]
        migrate(engine)
        self._upsert_bars = upsert(bars, engine.dialect, ("symbol", "timeframe", "time"))
        self._upsert_cursor = upsert(bar_cursors, engine.dialect, ("symbol",))
        self._upsert_mark = upsert(unfillable_ranges, engine.dialect, ("symbol", "timeframe", "from_s"))

    @classmethod
    def in_directory(cls, root: Path, stored_timeframes: Sequence[str] = DEFAULT_TIMEFRAMES) -> BarStore:
        """The embedded default: `<root>/catalog.sqlite`."""
        return cls(sqlite_engine(root / "catalog.sqlite"), stored_timeframes)

    @property
    def engine(self) -> Engine:
        return self._engine

    def _bar_rows(self, symbol: str, timeframe: str, data: np.ndarray, source: str) -> Iterable[object]:
        n = len(data)
        columns: dict[str, Iterable[object]] = {
            "symbol": repeat(symbol, n),
            "timeframe": repeat(timeframe, n),
            **{name: data[name].tolist() for name in _BAR_COLUMNS},
            "source": repeat(source, n),
        }
        return self._upsert_bars.rows(columns)

    def save(
        self,
        symbol: str,
        bars_by_timeframe: Mapping[str, np.ndarray],
        source: BarSource,
        cursor: TickCursor | None = None,
    ) -> int:
        """Upsert bars of several timeframes (and the bar cursor) in ONE transaction; returns rows written."""
        work: list[tuple[CompiledStatement, Iterable[object]]] = [
            (self._upsert_bars, self._bar_rows(symbol, get_timeframe(tf).name, data, source))
            for tf, data in bars_by_timeframe.items()
        ]
        if cursor is not None:
            columns: dict[str, Iterable[object]] = {
                "symbol": [symbol],
                "time_msc": [cursor.time_msc],
                "seq": [cursor.seq],
            }
            work.append((self._upsert_cursor, self._upsert_cursor.rows(columns)))
        return execute_many(self._engine, work)

    def upsert(self, symbol: str, timeframe: str, data: np.ndarray, source: BarSource) -> int:
        """Insert or replace bars (RATES_DTYPE) of one timeframe; returns rows written."""
        return self.save(symbol, {timeframe: data}, source)

    def cursor(self, symbol: str) -> TickCursor | None:
        """The last tick the stored bars of `symbol` include, or None."""
        stmt = select(bar_cursors.c.time_msc, bar_cursors.c.seq).where(bar_cursors.c.symbol == symbol)
        rows = fetch_all(self._engine, compile_statement(stmt, self._engine.dialect))
        return TickCursor(int(rows[0][0]), int(rows[0][1])) if rows else None

    def select_stored(
        self, symbol: str, tf: str, from_s: int | None, to_s: int | None, count: int | None
    ) -> np.ndarray:
        """The rows of one stored timeframe opening in [from_s, to_s) (the newest `count`), nothing built."""
        c = bars.c
        where = [c.symbol == symbol, c.timeframe == tf]
        if from_s is not None:
            where.append(c.time >= from_s)
        if to_s is not None:
            where.append(c.time < to_s)
        stmt = select(*(c[name] for name in _BAR_COLUMNS)).where(*where)
        # With a count, the newest `count` bars of the range are wanted: read backwards, then flip.
        stmt = stmt.order_by(c.time.desc()).limit(count) if count is not None else stmt.order_by(c.time)
        rows = fetch_all(self._engine, compile_statement(stmt, self._engine.dialect))
        out = np.array(rows, dtype=RATES_DTYPE) if rows else np.empty(0, RATES_DTYPE)
        return out[::-1].copy() if count is not None else out

    def read(
        self,
        symbol: str,
        timeframe: str,
        from_s: int | None = None,
        to_s: int | None = None,
        count: int | None = None,
    ) -> np.ndarray:
        """Bars opening in [from_s, to_s) (RATES_DTYPE, oldest first); with `count`, the newest `count`.

        A timeframe that is not stored is aggregated on read from the largest stored one dividing it.
        """
        tf = get_timeframe(timeframe)
        if from_s is not None and to_s is not None and from_s > to_s:
            raise InvalidInputError("from is after to", details={"from": from_s, "to": to_s})
        if tf.name in self.stored_timeframes:
            return self.select_stored(symbol, tf.name, from_s, to_s, count)
        source = best_source(tf, self.stored_timeframes)
        if source is None:
            raise InvalidInputError(
                f"timeframe {tf.name} is not stored and cannot be built from"
                f" {', '.join(self.stored_timeframes)}",
                code="unknown_timeframe",
                details={"timeframe": tf.name},
            )
        return self._read_aggregated(symbol, tf, source, from_s, to_s, count)

    def _read_aggregated(
        self,
        symbol: str,
        tf: Timeframe,
        source: Timeframe,
        from_s: int | None,
        to_s: int | None,
        count: int | None,
    ) -> np.ndarray:
        if to_s is None:
            newest = self.select_stored(symbol, source.name, from_s, None, 1)
            if len(newest) == 0:
                return np.empty(0, RATES_DTYPE)
            to_s = int(newest["time"][0]) + 1
        hi = ceil_open(tf, to_s)
        lo = ceil_open(tf, from_s) if from_s is not None else None
        if count is None:
            return aggregate_bars(self.select_stored(symbol, source.name, lo, hi, None), tf)
        # Read enough source bars backwards for `count` target bars; widen while the window fell short.
        per_bar = (tf.seconds or 31 * 86_400) // source.seconds
        limit = (count + 1) * per_bar
        while True:
            lower = self.select_stored(symbol, source.name, lo, hi, limit)
            built = aggregate_bars(lower, tf)
            if len(lower) < limit or len(built) > count:
                # The oldest built bar may miss source bars cut off by the limit; drop it unless complete.
                if len(lower) == limit and len(built) > count:
                    built = built[1:]
                return built[-count:] if count else built[:0]
            limit *= 2

    def edge_time(self, symbol: str, timeframe: str, *, newest: bool) -> int | None:
        """The newest (or oldest) stored open of a timeframe, or None; one index probe."""
        c = bars.c
        column = func.max(c.time) if newest else func.min(c.time)
        stmt = select(column).where(c.symbol == symbol, c.timeframe == get_timeframe(timeframe).name)
        rows = fetch_all(self._engine, compile_statement(stmt, self._engine.dialect))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def bar_times(self, symbol: str, timeframe: str, from_s: int, to_s: int) -> np.ndarray:
        """Open times (int64) of the stored bars of a timeframe in [from_s, to_s)."""
        c = bars.c
        stmt = (
            select(c.time)
            .where(
                c.symbol == symbol,
                c.timeframe == get_timeframe(timeframe).name,
                c.time >= from_s,
                c.time < to_s,
            )
            .order_by(c.time)
        )
        rows = fetch_all(self._engine, compile_statement(stmt, self._engine.dialect))
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def completeness(
        self, symbol: str, timeframe: str, from_s: int, to_s: int, calendar: WeeklyCalendar = FX_CALENDAR
    ) -> CompletenessReport:
        """Completeness of the stored bars of a timeframe over [from_s, to_s), with the gap marks."""
        tf = get_timeframe(timeframe)
        stored = self.bar_times(symbol, tf.name, from_s, to_s)
        return completeness(
            tf, from_s, to_s, stored, calendar, self.unfillable(symbol, tf.name, from_s, to_s)
        )

    def mark_unfillable(self, symbol: str, timeframe: str, ranges: Sequence[tuple[int, int]]) -> None:
        """Remember [from, to) ranges the terminal has no data for, so gap fill stops asking."""
        tf = get_timeframe(timeframe).name
        columns = {
            "symbol": repeat(symbol, len(ranges)),
            "timeframe": repeat(tf, len(ranges)),
            "from_s": [a for a, _ in ranges],
            "to_s": [b for _, b in ranges],
        }
        execute_many(self._engine, [(self._upsert_mark, self._upsert_mark.rows(columns))])

    def unfillable(self, symbol: str, timeframe: str, from_s: int, to_s: int) -> list[tuple[int, int]]:
        """Marked ranges overlapping [from_s, to_s), sorted."""
        c = unfillable_ranges.c
        stmt = (
            select(c.from_s, c.to_s)
            .where(and_(c.symbol == symbol, c.timeframe == get_timeframe(timeframe).name))
            .where(c.from_s < to_s, c.to_s > from_s)
            .order_by(c.from_s)
        )
        return [
            (int(a), int(b))
            for a, b in fetch_all(self._engine, compile_statement(stmt, self._engine.dialect))
        ]

    def clear_unfillable(self, symbol: str, timeframe: str) -> None:
        """Forget the marks of a symbol x timeframe (e.g. after the terminal's history grew)."""
        c = unfillable_ranges.c
        with self._engine.begin() as connection:
            connection.execute(delete(unfillable_ranges).where(c.symbol == symbol, c.timeframe == timeframe))

    def statistics(self) -> list[BarStats]:
        """Rows and first/last open per symbol x timeframe."""
        c = bars.c
        stmt = (
            select(c.symbol, c.timeframe, func.count(), func.min(c.time), func.max(c.time))
            .group_by(c.symbol, c.timeframe)
            .order_by(c.symbol, c.timeframe)
        )
        rows = fetch_all(self._engine, compile_statement(stmt, self._engine.dialect))
        return [BarStats(str(s), str(tf), int(n), int(a), int(b)) for s, tf, n, a, b in rows]

    def size_bytes(self) -> int:
        """Bytes on disk of the catalog database."""
        return database_size_bytes(self._engine)
