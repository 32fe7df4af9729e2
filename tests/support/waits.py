"""Waiting in tests: poll with a deadline, never a fixed sleep (the one home of the tests' waits)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

JOB_FINAL_STATES = ("completed", "failed", "cancelled")


def wait_until(predicate: Callable[[], Any], timeout: float, message: str, interval: float = 0.05) -> Any:
    """Poll until `predicate` returns something truthy, and return it; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message}; last: {value!r}")


async def wait_until_async(
    predicate: Callable[[], Any], timeout: float, message: str, interval: float = 0.01
) -> Any:
    """`wait_until` inside a running event loop: sleeping yields to the tasks that make `predicate` true."""
    deadline = time.monotonic() + timeout
    value: Any = None
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message}; last: {value!r}")


def wait_job(
    get: Callable[[], dict[str, Any]],
    until: Callable[[dict[str, Any]], bool] = lambda job: False,
    timeout: float = 90,
) -> dict[str, Any]:
    """Poll a job's record (`get`) until its state is final or `until(job)` holds, and return it."""

    def settled() -> dict[str, Any] | None:
        job = get()
        return job if job["state"] in JOB_FINAL_STATES or until(job) else None

    job: dict[str, Any] = wait_until(settled, timeout, "the job to finish")
    return job
