"""`mt5p` (python -m launcher) with real processes on free ports and a temp config: start, status, logs,
stop, and the leftovers a killed backend-api leaves behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shared.config import PROJECT_ROOT
from shared.platform import pid_alive
from tests.support.platform import API_KEY, children_of_config, write_config
from tests.support.waits import wait_until


def _mt5p(*args: str, config: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MT5P_CONFIG": str(config), "API_KEY": API_KEY}
    return subprocess.run(
        [sys.executable, "-m", "launcher", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_launcher_start_status_logs_stop_round_trip(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    down = _mt5p("status", config=config)
    assert down.returncode == 1 and "unreachable" in down.stdout
    try:
        started = _mt5p("start", config=config)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "Starting backend-api on 127.0.0.1:" in started.stdout
        assert "7/7 services healthy" in started.stdout and f"/?token={API_KEY}" in started.stdout
        assert "Stop:      ./stop_all_services.sh" in started.stdout

        status = _mt5p("status", "--json", config=config)
        assert status.returncode == 0 and '"healthy": true' in status.stdout
        logs = _mt5p("logs", "backend-api", "-n", "3", config=config)
        assert logs.returncode == 0 and len(logs.stdout.splitlines()) == 3
        unknown = _mt5p("logs", "nope", config=config)
        assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    finally:
        stopped = _mt5p("stop", config=config)
    assert stopped.returncode == 0 and "Stopped backend-api (pid " in stopped.stdout
    wait_until(lambda: not children_of_config(config), 15, "no process of ours left")
    assert not list((tmp_path / "logs").glob("*.pid"))
    assert "Nothing was running." in _mt5p("stop", config=config).stdout


def test_launcher_stop_ends_a_leftover_child_by_pid_file_and_leaves_a_stranger_alone(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir(exist_ok=True)
    # A service child of a backend-api killed with -9 (its command line names services.), and a stranger
    # that got the pid of a child of an earlier run.
    leftover = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)", "services.data"], start_new_session=True
    )
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        (logs / "data.pid").write_text(f"{leftover.pid}\n")
        (logs / "ai.pid").write_text(f"{stranger.pid}\n")
        (logs / "backend-api.pid").write_text(f"{stranger.pid}\n")
        stopped = _mt5p("stop", config=config)
        assert stopped.returncode == 0, stopped.stderr
        assert stopped.stdout.splitlines() == [f"Stopped data (pid {leftover.pid})."]
        assert leftover.wait(10) is not None
        assert pid_alive(stranger.pid)
        assert not list(logs.glob("*.pid"))
    finally:
        for proc in (leftover, stranger):
            proc.kill()
            proc.wait()


def test_launcher_invalid_config_names_key_and_file_and_starts_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path, overrides={"orchestrator": {"health_timeout_s": -1}})
    for command in ("start", "stop", "logs"):
        result = _mt5p(command, config=config)
        assert result.returncode == 2, (command, result.stdout, result.stderr)
        assert "orchestrator.health_timeout_s" in result.stderr and str(config) in result.stderr
        assert "Traceback" not in result.stderr
    assert not children_of_config(config)


def test_launcher_test_runs_pytest_with_the_given_arguments(tmp_path: Path) -> None:
    result = _mt5p("test", "--collect-only", "-q", "tests/shared/test_utils.py", config=tmp_path / "none")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tests/shared/test_utils.py::" in result.stdout
