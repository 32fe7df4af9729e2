"""`mt5p start` and `mt5p stop`: what start_all_services and stop_all_services do, on every OS.

start: backend-api in the background (it starts and supervises the six others), its pid in
`<log_dir>/backend-api.pid`, then wait until all seven are healthy and print the report. stop: backend-api
first (it stops its children), then any child a killed backend-api left behind, found by its pid file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from launcher import health
from shared.config import PROJECT_ROOT, ConfigError, PlatformSettings, load_config, resolve_api_key
from shared.platform import PidFile, current, pid_alive, pid_cmdline, stop_tree_sync

BACKEND = "backend-api"
BACKEND_MODULE = "services.backend_api"
BACKEND_STOP_S = 30.0
LEFTOVER_STOP_S = 10.0
START_TIMEOUT_ENV = "START_TIMEOUT_S"
STOP_COMMAND = "stop_all_services.cmd" if sys.platform == "win32" else "./stop_all_services.sh"


@dataclass(frozen=True, slots=True)
class Paths:
    settings: PlatformSettings

    @property
    def log_dir(self) -> Path:
        return self.settings.log_dir

    @property
    def pid_file(self) -> PidFile:
        return PidFile(self.log_dir / f"{BACKEND}.pid")

    @property
    def console_log(self) -> Path:
        return self.log_dir / f"{BACKEND}.console.log"

    def dashboard_url(self) -> str:
        return f"{self.settings.service(BACKEND).base_url}/?token={resolve_api_key(self.settings)}"


def load_paths() -> Paths | None:
    """The validated config's paths; None (the error printed, naming key and file) when it is invalid."""
    try:
        return Paths(load_config())
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return None


def running_backend(paths: Paths) -> int | None:
    """backend-api's pid when the pid file names a live one (not a stranger that reused the pid)."""
    pid = paths.pid_file.read()
    if pid is None or not pid_alive(pid) or BACKEND_MODULE not in pid_cmdline(pid):
        return None
    return pid


def start() -> int:
    paths = load_paths()
    if paths is None:
        return 2
    pid = running_backend(paths)
    if pid is not None:
        print(f"The platform is already running (backend-api pid {pid}).")
    else:
        section = paths.settings.service(BACKEND)
        print(f"Starting backend-api on {section.host}:{section.port} (config: {paths.settings.config_file})")
        paths.pid_file.write(_spawn_backend(paths.console_log))
    sys.stdout.flush()
    wait_s = float(os.environ.get(START_TIMEOUT_ENV) or 60)
    if health.main(["--wait", str(wait_s), "--quiet"]) != 0:
        print("Not every service came ONLINE; the report:", file=sys.stderr)
        health.main([])
        print(
            f"Logs: {paths.log_dir}  (each service: <name>.log; crashes at start: <name>.console.log)",
            file=sys.stderr,
        )
        return 1
    health.main([])
    print()
    print(f"Dashboard: {paths.dashboard_url()}")
    print(f"Logs:      {paths.log_dir}")
    print(f"Stop:      {STOP_COMMAND}")
    return 0


def _spawn_backend(console_log: Path) -> int:
    console_log.parent.mkdir(parents=True, exist_ok=True)
    with open(console_log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", BACKEND_MODULE],
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            **current().detached_options(),
        )
    return process.pid


def stop() -> int:
    paths = load_paths()
    if paths is None:
        return 2
    layer = current()
    found = False
    pid = running_backend(paths)
    if pid is not None:
        found = True
        _report_stop(BACKEND, pid, stop_tree_sync(layer, pid, BACKEND_STOP_S, tree=False), BACKEND_STOP_S)
    paths.pid_file.remove()
    # Children left behind (backend-api killed before it could stop them) have their own pid files.
    for pid_path in sorted(paths.log_dir.glob("*.pid")):
        leftover = PidFile(pid_path)
        pid = leftover.read()
        if pid is not None and pid_alive(pid) and "services." in pid_cmdline(pid):
            found = True
            stopped = stop_tree_sync(layer, pid, LEFTOVER_STOP_S)
            _report_stop(pid_path.stem, pid, stopped, LEFTOVER_STOP_S)
        leftover.remove()
    if not found:
        print("Nothing was running.")
    return 0


def _report_stop(name: str, pid: int, stopped: bool, wait_s: float) -> None:
    if stopped:
        print(f"Stopped {name} (pid {pid}).")
    else:
        print(f"Killed {name} (pid {pid}): it did not stop within {wait_s:g}s.")
