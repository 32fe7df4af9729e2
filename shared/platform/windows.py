"""Windows: a child gets its own process group (for CTRL_BREAK) and joins a kill-on-close job object.

The job is what makes children exit when backend-api dies, even by TerminateProcess: Windows closes
backend-api's handle to the job then, and the job kills every process in it. A parent pid is never
re-parented on Windows, so `parent_gone` checks the parent itself (and that its pid was not reused).
The Win32 calls go through `Win32Api`, so these branches are tested on Linux against a fake.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import Any, Protocol

import psutil

log = logging.getLogger(__name__)

# From WinBase.h; the subprocess module defines them only on Windows.
CREATE_NEW_PROCESS_GROUP = 0x00000200
CREATE_NO_WINDOW = 0x08000000


class Win32Api(Protocol):
    def create_kill_on_close_job(self) -> int:
        """A new job object whose processes are killed when its last handle closes; its handle."""

    def assign_to_job(self, job: int, pid: int) -> None:
        """Put process `pid` into `job`; OSError when it cannot (gone, or access denied)."""

    def send_ctrl_break(self, pid: int) -> None:
        """CTRL_BREAK_EVENT to the process group led by `pid` (uvicorn stops on it); OSError if refused."""


class WindowsProcesses:
    def __init__(self, api: Win32Api) -> None:
        self._api = api
        self._job: int | None = None

    def child_options(self) -> dict[str, Any]:
        # Its own group so CTRL_BREAK reaches it (and its workers) alone; the console is inherited,
        # a hidden one when backend-api was started by mt5p, so no window opens per child.
        return {"creationflags": CREATE_NEW_PROCESS_GROUP}

    def detached_options(self) -> dict[str, Any]:
        # A hidden console of its own: closing the launching window does not end the platform.
        return {"creationflags": CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW}

    def adopt(self, pid: int) -> None:
        if self._job is None:
            self._job = self._api.create_kill_on_close_job()
        try:
            self._api.assign_to_job(self._job, pid)
        except OSError as exc:
            # Not fatal: the child still stops by itself when it sees its parent gone.
            log.warning("process %d could not join the job object: %s", pid, exc)

    def terminate(self, pid: int) -> None:
        self.terminate_tree(pid)

    def terminate_tree(self, pid: int) -> None:
        with contextlib.suppress(OSError):
            self._api.send_ctrl_break(pid)

    def kill_tree(self, pid: int) -> None:
        try:
            root = psutil.Process(pid)
            procs = [*root.children(recursive=True), root]
        except (psutil.Error, ValueError):
            return
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                proc.kill()

    def parent_gone(self, parent_pid: int) -> bool:
        try:
            parent = psutil.Process(parent_pid)
            # A reused pid belongs to a process younger than us, not to the one that started us.
            return parent.create_time() > psutil.Process(os.getpid()).create_time()
        except (psutil.NoSuchProcess, ValueError):
            return True
        except psutil.AccessDenied:
            return False
