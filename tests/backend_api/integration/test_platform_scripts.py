"""The README's first command and its counterpart: start_all_services.sh and stop_all_services.sh."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from shared.config import PROJECT_ROOT
from tests.support.platform import API_KEY, children_of_config, write_config
from tests.support.waits import wait_until


def _run(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_scripts_start_all_online_report_healthy_and_stop_leaves_nothing(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    env = {**os.environ, "MT5P_CONFIG": str(config), "API_KEY": API_KEY}
    try:
        started = _run(["./start_all_services.sh"], env)
        assert started.returncode == 0, started.stdout + started.stderr
        assert "7/7 services healthy" in started.stdout
        assert f"/?token={API_KEY}" in started.stdout and str(tmp_path / "logs") in started.stdout

        again = _run(["./start_all_services.sh"], env)
        assert again.returncode == 0 and "already running" in again.stdout

        report = _run([sys.executable, "test_services.py", "--json"], env)
        assert report.returncode == 0, report.stdout + report.stderr
        body = json.loads(report.stdout)
        assert body["healthy"] and {r["name"] for r in body["services"]} >= {"backend-api", "mt5", "ai"}
        assert len(children_of_config(config)) >= 7  # the services, plus job pools and their helpers
    finally:
        stopped = _run(["./stop_all_services.sh"], env)
    assert stopped.returncode == 0 and "Stopped backend-api" in stopped.stdout
    wait_until(lambda: not children_of_config(config), 15, "no process of ours left")
    assert "Nothing was running" in _run(["./stop_all_services.sh"], env).stdout
    down = _run([sys.executable, "test_services.py"], env)
    assert down.returncode == 1 and "unreachable" in down.stdout


def test_scripts_invalid_config_stops_start_with_key_and_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, overrides={"orchestrator": {"health_timeout_s": -1}})
    env = {**os.environ, "MT5P_CONFIG": str(config)}
    result = _run(["./start_all_services.sh"], env)
    assert result.returncode != 0
    assert "orchestrator.health_timeout_s" in result.stderr and str(config) in result.stderr
    assert not children_of_config(config)
