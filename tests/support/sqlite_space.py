"""A full disk, for SQLite: `PRAGMA max_page_count` set on every connection a pool hands out.

SQLite then answers a write that needs a new page with SQLITE_FULL ("database or disk is full"), exactly
as it does when the file system is out of space: real database files and the real error path, without
filling the machine's disk. Setting the count below the current size pins it at the current size.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.pool import Pool

_UNLIMITED = 1_073_741_823


class SqliteSpace:
    """While `full` is set, no SQLite database of this process may grow; clearing it gives room again."""

    def __init__(self) -> None:
        self.full = False

    def _on_checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if type(dbapi_connection).__module__ != "sqlite3":
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA max_page_count = {1 if self.full else _UNLIMITED}")
        cursor.close()


@contextmanager
def sqlite_space() -> Iterator[SqliteSpace]:
    """Every pool checkout in this process (all engines, also ones made later) obeys the returned switch."""
    space = SqliteSpace()
    event.listen(Pool, "checkout", space._on_checkout)
    try:
        yield space
    finally:
        event.remove(Pool, "checkout", space._on_checkout)
