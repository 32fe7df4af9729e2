"""Job functions for the job-manager tests (importable by spawned worker processes)."""

from __future__ import annotations

import os
import time
from typing import Any

from shared.errors import InvalidInputError
from shared.jobs import JobContext


def count_to(params: dict[str, Any], ctx: JobContext) -> dict[str, int]:
    total = 0
    for i in range(params["n"]):
        total += i
        ctx.progress((i + 1) / params["n"], f"step {i + 1}")
        time.sleep(params.get("sleep_s", 0))
    return {"total": total}


def wait_for_cancel(params: dict[str, Any], ctx: JobContext) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ctx.check_cancelled()
        time.sleep(0.02)


def refuse(params: dict[str, Any], ctx: JobContext) -> None:
    raise InvalidInputError("not enough bars", code="insufficient_data", details={"bars": 3})


def die(params: dict[str, Any], ctx: JobContext) -> None:
    os._exit(9)
