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


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _refuse(state: StorageState) -> None:
    with pytest.raises(DiskFullError), state.writing("store"):
        raise OSError(errno.ENOSPC, "No space left on device")


def _succeed(state: StorageState) -> None:
    with state.writing("store"):
        pass


def test_storage_state_reports_each_change_once() -> None:
    published: list[tuple[str, Payload]] = []
    clock = _Clock()
    state = StorageState(lambda t, d: published.append((t, d)), hold_s=10, now_ms=lambda: 5, monotonic=clock)

    for _ in range(3):
        _refuse(state)
    degraded = state.check()
    clock.now += 10
    for _ in range(3):
        _succeed(state)

    assert degraded["ok"] is False and degraded["reason"] == "disk_full"
    assert state.check() == {"ok": True}
    assert [(t, d.wire()["active"]) for t, d in published] == [("alert", True), ("alert", False)]


def test_a_small_write_that_fits_while_bigger_ones_are_refused_does_not_flap_the_alert() -> None:
    published: list[tuple[str, Payload]] = []
    clock = _Clock()
    state = StorageState(lambda t, d: published.append((t, d)), hold_s=10, monotonic=clock)

    for _ in range(5):  # a full disk: small writes fit in free page space, bigger ones are refused
        _refuse(state)
        clock.now += 3
        _succeed(state)
        clock.now += 3
    still_full = state.check()
    clock.now += 10  # space returned: nothing refused for the hold
    room_again = state.check()

    assert still_full["ok"] is False
    assert room_again == {"ok": True}  # seen by /health even with no write since the hold began
    assert [d.wire()["active"] for _, d in published] == [True, False]


def test_the_hold_needs_a_write_that_succeeded_after_the_last_refusal() -> None:
    clock = _Clock()
    state = StorageState(lambda t, d: None, hold_s=10, monotonic=clock)

    _refuse(state)
    clock.now += 60  # nothing written since: no evidence of room

    assert state.check()["ok"] is False
    _succeed(state)
    assert state.check() == {"ok": True}
