"""POSIX: a child leads its own process group; it notices its parent died when it is re-parented."""

from __future__ import annotations

import contextlib
import os
import signal
from typing import Any


class PosixProcesses:
    def child_options(self) -> dict[str, Any]:
        # A session of its own: its whole group (job-pool workers included) is signalled as one.
        return {"start_new_session": True}

    def detached_options(self) -> dict[str, Any]:
        # Out of the launching terminal's session: closing it (SIGHUP) does not reach backend-api.
        return {"start_new_session": True}

    def adopt(self, pid: int) -> None:
        """Nothing to do: a POSIX child watches `parent_gone` itself (a process group dies with nobody)."""

    def terminate(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)

    def terminate_tree(self, pid: int) -> None:
        self._signal_tree(pid, signal.SIGTERM)

    def kill_tree(self, pid: int) -> None:
        self._signal_tree(pid, signal.SIGKILL)

    def parent_gone(self, parent_pid: int) -> bool:
        # An orphan is re-parented (to init or a subreaper), so its parent pid changes.
        return os.getppid() != parent_pid

    @staticmethod
    def _signal_tree(pid: int, signum: signal.Signals) -> None:
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            # Not a group leader (started by something else than this layer): the process alone.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)
        except PermissionError:
            pass
