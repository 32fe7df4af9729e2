"""The platform layer: the Windows branches against a fake Win32 API (on Linux, with real processes where
the behaviour is not Win32's), and no POSIX-only call left outside the layer."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from services.backend_api.core.supervisor import Supervisor
from shared.config import PROJECT_ROOT, load_config
from shared.platform import PidFile, current, pid_alive, pid_cmdline
from shared.platform.posix import PosixProcesses
from shared.platform.windows import CREATE_NEW_PROCESS_GROUP, CREATE_NO_WINDOW, WindowsProcesses
from tests.support.platform import write_config
from tests.support.waits import wait_until

POSIX_ONLY = re.compile(r"killpg|setsid|start_new_session|getppid|import fcntl|SIGKILL|/proc/")


class FakeWin32:
    """Records the Win32 calls; `refuse` makes the next assignment fail as Windows would."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.refuse = False

    def create_kill_on_close_job(self) -> int:
        self.calls.append(("create_job",))
        return 4242

    def assign_to_job(self, job: int, pid: int) -> None:
        self.calls.append(("assign", job, pid))
        if self.refuse:
            raise OSError(5, "Access is denied")

    def send_ctrl_break(self, pid: int) -> None:
        self.calls.append(("ctrl_break", pid))
        raise OSError(6, "The handle is invalid")  # a child on another console: refused, never raised


def test_platform_posix_only_calls_live_only_in_the_layer() -> None:
    offending = []
    for root in ("services", "shared", "launcher"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            if path.is_relative_to(PROJECT_ROOT / "shared" / "platform"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if POSIX_ONLY.search(line):
                    offending.append(f"{path.relative_to(PROJECT_ROOT).as_posix()}:{number}: {line.strip()}")
    assert offending == []


def test_platform_current_is_the_posix_layer_here() -> None:
    assert isinstance(current(), PosixProcesses)
    assert current().child_options() == {"start_new_session": True}


def test_platform_windows_children_get_their_own_group_and_one_kill_on_close_job() -> None:
    api = FakeWin32()
    layer = WindowsProcesses(api)
    assert layer.child_options() == {"creationflags": CREATE_NEW_PROCESS_GROUP}
    assert layer.detached_options() == {"creationflags": CREATE_NEW_PROCESS_GROUP | CREATE_NO_WINDOW}
    layer.adopt(101)
    layer.adopt(102)
    api.refuse = True
    layer.adopt(103)  # logged, not raised: the child still watches its parent
    assert api.calls == [("create_job",), ("assign", 4242, 101), ("assign", 4242, 102), ("assign", 4242, 103)]


def test_platform_windows_graceful_stop_is_ctrl_break_to_the_group_and_a_refusal_is_not_an_error() -> None:
    api = FakeWin32()
    layer = WindowsProcesses(api)
    layer.terminate_tree(555)
    layer.terminate(556)
    assert api.calls == [("ctrl_break", 555), ("ctrl_break", 556)]


def _tree(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A real parent with a real child; the child's pid once it is written."""
    child_pid = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time, pathlib;"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"pathlib.Path({str(child_pid)!r}).write_text(str(c.pid)); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", code])
    wait_until(lambda: child_pid.is_file() and child_pid.read_text(), 10, "the child started")
    return parent, int(child_pid.read_text())


def test_platform_windows_kill_tree_ends_the_root_and_its_descendants(tmp_path: Path) -> None:
    parent, child = _tree(tmp_path)
    try:
        WindowsProcesses(FakeWin32()).kill_tree(parent.pid)
        parent.wait(10)
        wait_until(lambda: not pid_alive(child), 10, "the grandchild is gone too")
    finally:
        for pid in (parent.pid, child):
            if pid_alive(pid):
                os.kill(pid, 9)
    WindowsProcesses(FakeWin32()).kill_tree(parent.pid)  # gone already: no error


def test_platform_windows_parent_gone_when_dead_or_its_pid_reused_by_a_younger_process() -> None:
    layer = WindowsProcesses(FakeWin32())
    assert not layer.parent_gone(os.getppid())  # pytest's parent: alive and older than us
    younger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert layer.parent_gone(younger.pid)  # a pid that is not the one that started us
    finally:
        younger.kill()
        younger.wait()
    assert layer.parent_gone(younger.pid)


def test_platform_posix_terminate_tree_of_a_process_not_leading_a_group_signals_it_alone(
    tmp_path: Path,
) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # our group
    try:
        PosixProcesses().terminate_tree(sleeper.pid)
        assert sleeper.wait(10) == -15
    finally:
        sleeper.kill()
    assert pid_cmdline(sleeper.pid) == "" and not pid_alive(sleeper.pid)


class RecordingLayer:
    """The real POSIX layer, with every call the supervisor makes recorded."""

    def __init__(self) -> None:
        self.real = PosixProcesses()
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)

        def record(*args: Any) -> Any:
            self.calls.append(name)
            return method(*args)

        return record


def test_platform_supervisor_spawns_ties_and_stops_its_children_through_the_layer(tmp_path: Path) -> None:
    settings = load_config(write_config(tmp_path, modules={"ai": "tests.support.emitter_service"}))
    layer = RecordingLayer()

    async def scenario() -> int:
        supervisor = Supervisor(
            settings, internal_token="t", publish=lambda kind, data: None, names=["ai"], layer=layer
        )
        await supervisor.start_all()
        try:
            for _ in range(600):
                if supervisor.status("ai").state == "ONLINE":
                    break
                await asyncio.sleep(0.1)
            pid = supervisor.status("ai").pid
            assert pid is not None and PidFile(settings.log_dir / "ai.pid").read() == pid
        finally:
            await supervisor.aclose()
        return pid

    pid = asyncio.run(scenario())
    assert layer.calls[:2] == ["child_options", "adopt"]
    assert "terminate_tree" in layer.calls
    assert not pid_alive(pid)
