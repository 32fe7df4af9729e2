"""Recognising a full disk in the shapes drivers raise it."""

from __future__ import annotations

import errno
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from shared.disk_full import DiskFullError, StorageState, is_disk_full
from shared.event_payloads import Payload


class _PgDiskFull(Exception):
    sqlstate = "53100"


@pytest.mark.parametrize(
    "exc",
    [
        sqlite3.OperationalError("database or disk is full"),
        OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full")),
        OSError(errno.ENOSPC, "No space left on device"),
        OperationalError("INSERT", {}, _PgDiskFull("could not extend file")),
        DiskFullError("full"),
    ],
)
def test_is_disk_full_recognises_each_driver_shape(exc: Exception) -> None:
    assert is_disk_full(exc)


def test_is_disk_full_not_for_other_errors() -> None:
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))


def test_storage_state_reports_each_change_once() -> None:
    published: list[tuple[str, Payload]] = []
    state = StorageState(lambda t, d: published.append((t, d)), now_ms=lambda: 5)

    for _ in range(3):
        with pytest.raises(DiskFullError), state.writing("store"):
            raise OSError(errno.ENOSPC, "No space left on device")
    degraded = state.check()
    for _ in range(3):
        with state.writing("store"):
            pass

    assert degraded["ok"] is False and degraded["reason"] == "disk_full"
    assert state.check() == {"ok": True}
    assert [(t, d.wire()["active"]) for t, d in published] == [("alert", True), ("alert", False)]
