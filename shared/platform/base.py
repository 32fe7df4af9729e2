"""What every OS layer offers, and the graceful-then-forced stop built on it."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Protocol

import psutil


class ProcessLayer(Protocol):
    """Starting, tying and ending process trees on one OS."""

    def child_options(self) -> dict[str, Any]:
        """subprocess keyword arguments for a supervised child: its own group, so its tree can be ended."""

    def detached_options(self) -> dict[str, Any]:
        """subprocess keyword arguments for a process that outlives its launcher (backend-api from mt5p)."""

    def adopt(self, pid: int) -> None:
        """Tie a just-spawned child's life to ours, where the OS can (a job object on Windows)."""

    def terminate(self, pid: int) -> None:
        """Ask the one process `pid` to stop (it stops its own children); no error when it is gone."""

    def terminate_tree(self, pid: int) -> None:
        """Ask the tree rooted at `pid` to stop (it may clean up); no error when it is already gone."""

    def kill_tree(self, pid: int) -> None:
        """End the tree rooted at `pid` at once; no error when it is already gone."""

    def parent_gone(self, parent_pid: int) -> bool:
        """True in a child once the process that started it (`parent_pid`) has died."""


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, already exited but not reaped, counts as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except (psutil.NoSuchProcess, ValueError):
        return False
    except psutil.AccessDenied:
        return True


def pid_cmdline(pid: int) -> str:
    """`pid`'s command line joined by spaces; empty when it is gone or not ours to read."""
    try:
        return " ".join(psutil.Process(pid).cmdline())
    except (psutil.Error, ValueError):
        return ""


async def stop_tree(layer: ProcessLayer, pid: int, timeout_s: float) -> None:
    """Terminate the tree at `pid`, wait up to `timeout_s` for its root to exit, then kill what is left."""
    layer.terminate_tree(pid)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid) and time.monotonic() < deadline:  # noqa: ASYNC110 - polling a foreign pid
        await asyncio.sleep(0.05)
    layer.kill_tree(pid)


def stop_tree_sync(layer: ProcessLayer, pid: int, timeout_s: float, *, tree: bool = True) -> bool:
    """The blocking form for the launcher; True when the root exited within `timeout_s`, False if killed.
    `tree=False` asks only the root to stop first (it stops its own children), as stop_all_services did."""
    if tree:
        layer.terminate_tree(pid)
    else:
        layer.terminate(pid)
    deadline = time.monotonic() + timeout_s
    while pid_alive(pid):
        if time.monotonic() >= deadline:
            layer.kill_tree(pid)
            return False
        time.sleep(0.1)
    return True
