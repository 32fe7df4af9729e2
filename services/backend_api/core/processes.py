"""Spawning a service for the supervisor, and reading its logs; how the OS ties and ends the process
tree is the platform layer's (shared.platform)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from shared.config import PROJECT_ROOT
from shared.platform import PidFile, ProcessLayer, pid_alive, pid_cmdline, stop_tree


async def stop_stale(layer: ProcessLayer, pid_file: PidFile, module: str, timeout_s: float) -> int | None:
    """Stop a leftover child of an earlier run (found by pid file and command line); its pid, or None."""
    pid = pid_file.read()
    if pid is None or not pid_alive(pid) or f"-m {module}" not in pid_cmdline(pid):
        pid_file.remove()
        return None
    await stop_tree(layer, pid, timeout_s)
    pid_file.remove()
    return pid


async def spawn_service(
    layer: ProcessLayer, module: str, env: dict[str, str], console_log: Path
) -> asyncio.subprocess.Process:
    """Start `python -m module` as the layer's child (its tree can be ended as one, and it ends with us),
    output to a file."""
    console_log.parent.mkdir(parents=True, exist_ok=True)
    with open(console_log, "ab") as out:  # noqa: ASYNC230 - opening a log file does not block
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
            **layer.child_options(),
        )
    layer.adopt(process.pid)
    return process
