"""OS-level process handling for the supervisor: spawning in a new session, pid files, ports, group kills."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import re
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.config import PROJECT_ROOT


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (binds a probe socket, as the child would)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); treat it as gone.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
            return False
    return True


def cmdline_of(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class PidFile:
    """`<log_dir>/<name>.pid`: which process of ours runs a service, so a later run can find it."""

    path: Path

    def write(self, pid: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{pid}\n")

    def read(self) -> int | None:
        try:
            return int(self.path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


async def terminate_group(pid: int, timeout_s: float) -> None:
    """SIGTERM the process group led by `pid`, wait up to `timeout_s`, then SIGKILL it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = asyncio.get_running_loop().time() + timeout_s
    while pid_alive(pid) and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - polling a foreign pid
        await asyncio.sleep(0.05)
    kill_group(pid)


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def stop_stale(pid_file: PidFile, module: str, timeout_s: float) -> int | None:
    """Stop a leftover child of an earlier run (found by pid file and command line); its pid, or None."""
    pid = pid_file.read()
    if pid is None or not pid_alive(pid) or f"-m {module}" not in cmdline_of(pid):
        pid_file.remove()
        return None
    await terminate_group(pid, timeout_s)
    pid_file.remove()
    return pid


async def spawn_service(module: str, env: dict[str, str], console_log: Path) -> asyncio.subprocess.Process:
    """Start `python -m module` in its own session (so its whole group can be signalled), output to a file."""
    console_log.parent.mkdir(parents=True, exist_ok=True)
    with open(console_log, "ab") as out:  # noqa: ASYNC230 - opening a log file does not block
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env=env,
            cwd=str(PROJECT_ROOT),
            start_new_session=True,
        )


# The supervisor's own successful `/health` poll, as httpx logs it: one line per service every few seconds.
_HEALTH_POLL = re.compile(r'HTTP Request: GET \S+/health "HTTP/[\d.]+ 200 ')


def is_health_check(line: str) -> bool:
    """Whether `line` is a successful health poll (a failing one is what an operator looks for: kept)."""
    return _HEALTH_POLL.search(line) is not None


def tail_lines(path: Path, lines: int, keep: Callable[[str], bool] | None = None) -> list[str]:
    """The last `lines` lines of a text file that `keep` accepts (all when None), reading only its end:
    further back, up to the whole file (bounded by log rotation), while too few are kept."""
    if not path.is_file() or not lines:
        return []
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        block = min(size, max(4096, lines * 200))
        while True:
            fh.seek(size - block)
            text = fh.read(block).decode("utf-8", errors="replace").splitlines()
            if block < size:
                text = text[1:]  # the block's first line may be cut
            kept = [line for line in text if keep is None or keep(line)]
            if len(kept) >= lines or block == size:
                return kept[-lines:]
            block = min(size, block * 2)
