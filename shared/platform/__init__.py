"""The platform layer: the only place that knows how an OS starts, ties and ends process trees.

Everything else (the supervisor, the launcher, a service noticing its supervisor died) asks a
`ProcessLayer`, chosen once by `current()` and injectable, so the Windows branches run on Linux in tests
against a fake Win32 API. POSIX: a child leads its own process group (signalled as a whole) and watches
its parent pid. Windows: a child gets its own process group and joins a job object that kills it when
backend-api's last handle closes, however backend-api ended.
"""

from __future__ import annotations

import sys
from functools import cache

from shared.platform.base import ProcessLayer, pid_alive, pid_cmdline, stop_tree, stop_tree_sync
from shared.platform.pidfile import PidFile


@cache
def current() -> ProcessLayer:
    """This OS's layer (one per process: on Windows it owns the job object its children join)."""
    if sys.platform == "win32":
        from shared.platform.win32_api import Kernel32
        from shared.platform.windows import WindowsProcesses

        return WindowsProcesses(Kernel32())
    from shared.platform.posix import PosixProcesses

    return PosixProcesses()


__all__ = ["PidFile", "ProcessLayer", "current", "pid_alive", "pid_cmdline", "stop_tree", "stop_tree_sync"]
