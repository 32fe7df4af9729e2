"""Dialect-neutral bulk SQL: statements built with SQLAlchemy Core, executed through the DBAPI cursor.

The hot paths (tick ingest, bar upsert, range reads) skip SQLAlchemy's per-row result and parameter
processing: a statement is compiled once per dialect and run with `executemany`/`execute` on the raw
connection, which is what makes ingest run at the speed of the driver itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Engine, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """SQL text plus how to lay out its parameters for the driver (positional order or named)."""

    sql: str
    positional_order: tuple[str, ...] | None
    fixed_params: Mapping[str, Any]

    def rows(self, columns: Mapping[str, Iterable[Any]]) -> Iterator[Any]:
        """Driver parameter rows from equal-length columns keyed by bind name, streamed to executemany."""
        if self.positional_order is not None:
            return zip(*(columns[name] for name in self.positional_order), strict=False)
        names = list(columns)
        return (dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=False))

    def params(self) -> Any:
        """Parameters of a single-execution statement (its literal binds, e.g. a LIMIT)."""
        if self.positional_order is not None:
            return tuple(self.fixed_params[name] for name in self.positional_order)
        return dict(self.fixed_params)


def compile_statement(stmt: ClauseElement, dialect: Dialect) -> CompiledStatement:
    """Compile once for a dialect; the result is reused for every batch."""
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect))
    order = tuple(compiled.positiontup or ()) if compiled.positional else None
    return CompiledStatement(str(compiled), order, dict(compiled.params))


def _dialect_insert(table: Table, dialect: Dialect) -> Any:
    if dialect.name == "sqlite":
        return sqlite.insert(table)
    if dialect.name == "postgresql":
        return postgresql.insert(table)
    raise NotImplementedError(f"bulk upsert is written for sqlite and postgresql, not {dialect.name}")


def insert_ignore(table: Table, dialect: Dialect) -> CompiledStatement:
    """INSERT that silently skips rows whose key already exists (idempotent re-insert)."""
    stmt = _dialect_insert(table, dialect).values({c.name: bindparam(c.name) for c in table.columns})
    return compile_statement(stmt.on_conflict_do_nothing(), dialect)


def upsert(table: Table, dialect: Dialect, key: Sequence[str]) -> CompiledStatement:
    """INSERT that replaces the non-key columns of rows whose key already exists."""
    stmt = _dialect_insert(table, dialect).values({c.name: bindparam(c.name) for c in table.columns})
    update = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in key}
    return compile_statement(stmt.on_conflict_do_update(index_elements=list(key), set_=update), dialect)


def fetch_all(engine: Engine, compiled: CompiledStatement) -> Sequence[Any]:
    """Run a compiled SELECT on a raw pooled connection and return plain tuples."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(compiled.sql, compiled.params())
        rows = cursor.fetchall()
        cursor.close()
        return rows
    finally:
        connection.close()


def execute_many(engine: Engine, batches: Iterable[tuple[CompiledStatement, Iterable[Any]]]) -> int:
    """Run every (statement, rows) pair in ONE transaction; returns the rows the database changed."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        changed = 0
        for compiled, rows in batches:
            # Drivers take any iterable of rows; streaming them avoids a second copy of the batch.
            cursor.executemany(compiled.sql, rows)  # type: ignore[arg-type]
            changed += max(cursor.rowcount, 0)
        connection.commit()
        cursor.close()
        return changed
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()
