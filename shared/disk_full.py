"""A full disk as a named, recoverable state (DESIGN §11): recognised in whatever shape the driver raises it,
answered as one error, reported once per change (log line, `alert` event, /health), cleared once writes have
succeeded for `system.disk_full_hold_s` with no refusal in between.

Not by the first write that succeeds: on a full disk a small write still fits in a database page's free
space or a reused journal, while the next bigger one is refused again, and each flip would be an alert.

SQLite says "database or disk is full" (SQLITE_FULL) through sqlite3 or wrapped by SQLAlchemy, PostgreSQL
says SQLSTATE 53100, the file system says ENOSPC or EDQUOT.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from shared.errors import PlatformError
from shared.event_catalog import ALERT
from shared.event_payloads import Publish, StorageAlert
from shared.utils import get_timestamp_ms

log = logging.getLogger(__name__)

_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_PG_DISK_FULL = "53100"


class DiskFullError(PlatformError):
    """No space left for a write; nothing of it was stored. 507 Insufficient Storage."""

    status_code = 507
    code = "disk_full"


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc`, or an error it wraps or was raised from, says the disk (or database) is full."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return True
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
            or "database or disk is full" in str(current)
        ):
            return True
        if isinstance(current, OSError) and current.errno in _DISK_ERRNOS:
            return True
        if (
            getattr(current, "pgcode", None) == _PG_DISK_FULL
            or getattr(current, "sqlstate", None) == _PG_DISK_FULL
        ):
            return True
        # SQLAlchemy's DBAPIError keeps the driver's error in `orig`.
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return False


class StorageState:
    """Whether this service's storage takes writes. Thread-safe: stores write from worker threads.

    `publish` must be callable from any thread (EventBus.publish_threadsafe).
    """

    def __init__(
        self,
        publish: Publish,
        *,
        hold_s: float = 10.0,
        now_ms: Callable[[], int] = get_timestamp_ms,
        monotonic: Callable[[], float] = time.monotonic,
    ):
        self._publish = publish
        self._hold_s = hold_s
        self._now_ms = now_ms
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._full: dict[str, Any] | None = None  # where, message, since_ms while the disk is full
        self._refused_at = 0.0  # monotonic time of the latest refusal
        self._ok_after_refusal = False  # a write succeeded since then

    @property
    def full(self) -> bool:
        return self._full is not None

    def report_full(self, where: str, exc: BaseException) -> None:
        """The disk is full (seen by `where`); logged and published only when this is news."""
        with self._lock:
            self._refused_at, self._ok_after_refusal = self._monotonic(), False
            if self._full is not None:
                return
            self._full = {"where": where, "message": str(exc).splitlines()[0], "since_ms": self._now_ms()}
            state = dict(self._full)
        log.error("disk full (%s: %s); writes wait until space returns", where, state["message"])
        self._publish(ALERT, StorageAlert(code="disk_full", active=True, **state))

    def report_ok(self) -> None:
        """A write succeeded: if the disk was full and no write was refused for the hold, it has room again."""
        if self._full is None:  # the common case, without the lock
            return
        with self._lock:
            self._ok_after_refusal = True
        self._clear_when_held()

    def _clear_when_held(self) -> None:
        with self._lock:
            held = self._monotonic() - self._refused_at >= self._hold_s
            if self._full is None or not (self._ok_after_refusal and held):
                return
            was, self._full = self._full, None
        log.warning("disk has room again (full since %d ms, seen by %s)", was["since_ms"], was["where"])
        self._publish(ALERT, StorageAlert(code="disk_full", active=False, where=was["where"]))

    @contextmanager
    def writing(self, where: str) -> Iterator[None]:
        """Around a write: a full disk raises DiskFullError (and is reported), success reports room."""
        try:
            yield
        except DiskFullError as exc:
            self.report_full(where, exc)
            raise
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            self.report_full(where, exc)
            raise DiskFullError(
                f"disk full: {where} could not write; retry when space is freed", details={"where": where}
            ) from exc
        self.report_ok()

    def check(self) -> dict[str, Any]:
        """The /health check: ok, or degraded with the reason."""
        self._clear_when_held()  # writes may have stopped once the hold began: health still sees it end
        full = self._full
        if full is None:
            return {"ok": True}
        return {"ok": False, "reason": "disk_full", **full}
