"""SQLAlchemy engines: SQLite files tuned for many small writes from one process, or a DATABASE_URL."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event

P = ParamSpec("P")
T = TypeVar("T")


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


class DatabaseThread:
    """One thread that runs a store's blocking calls, in the order they are asked for.

    SQLite lets one writer in at a time and makes the others sleep and retry (its busy handler sleeps
    1, 2, 5, ... up to 100 ms), so short transactions sent from a thread pool at the same moment wait on
    each other's sleeps; queued in one thread, each waits only for the work ahead of it.
    """

    def __init__(self, name: str) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`call(*args, **kwargs)` in the thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(call, *args, **kwargs))

    def close(self) -> None:
        """Finish the queued calls and stop the thread."""
        self._executor.shutdown(wait=True)
