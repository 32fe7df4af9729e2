"""Job specs and functions for the job-manager tests (importable by spawned worker processes)."""

from __future__ import annotations

import os
import time
from typing import Any

from pydantic import Field

from shared.errors import InvalidInputError
from shared.jobs import JobContext, JobSpec


class CountSpec(JobSpec):
    n: int
    symbol: str | None = None
    sleep_s: float = 0.0
    scratch_file: str | None = Field(default=None, exclude=True)  # a run path: the worker's, not a client's


def count_to(spec: CountSpec, ctx: JobContext) -> dict[str, Any]:
    total = 0
    for i in range(spec.n):
        total += i
        ctx.progress((i + 1) / spec.n, f"step {i + 1}")
        time.sleep(spec.sleep_s)
    return {"total": total}


def echo(spec: CountSpec, ctx: JobContext) -> dict[str, Any]:
    """What the worker received: the spec whole, its run-only field included."""
    return {"n": spec.n, "scratch_file": spec.scratch_file}


def wait_for_cancel(spec: JobSpec, ctx: JobContext) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ctx.check_cancelled()
        time.sleep(0.02)


def refuse(spec: JobSpec, ctx: JobContext) -> None:
    raise InvalidInputError("not enough bars", code="insufficient_data", details={"bars": 3})


def die(spec: JobSpec, ctx: JobContext) -> None:
    os._exit(9)


def run_twice(spec: CountSpec, ctx: JobContext) -> dict[str, Any]:
    """Counts its starts in `scratch_file`; the first start waits to be stopped, a later one completes."""
    assert spec.scratch_file is not None
    with open(spec.scratch_file, "a") as f:
        f.write("start\n")
    with open(spec.scratch_file) as f:
        starts = len(f.readlines())
    if starts == 1:
        wait_for_cancel(spec, ctx)
    return {"starts": starts}
