"""SQLAlchemy engines: SQLite files tuned for many small writes from one process, or a DATABASE_URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside the writer; NORMAL sync is durable across a process crash (kill -9),
    # which is the failure we guard against; a power loss may drop the last commits, never corrupt.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def sqlite_engine(path: Path, **kwargs: Any) -> Engine:
    """An engine on a SQLite file (parent folders created) with the platform's pragmas."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", **kwargs)
    event.listen(engine, "connect", _tune_sqlite)
    return engine


def engine_from_url(url: str, **kwargs: Any) -> Engine:
    """An engine for a DATABASE_URL; SQLite URLs get the same tuning as `sqlite_engine`."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _tune_sqlite)
    return engine
