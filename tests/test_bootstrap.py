"""scripts/bootstrap.py, the first-run install in Python (stdlib, any OS): the stamp keyed by pyproject.toml's
sha256, the install log, `--run`. It runs as a real process on a copy of the project whose .venv holds a
stand-in interpreter that records what it is asked to run (a real pip install would take minutes)."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import PROJECT_ROOT

FAKE_PYTHON = """#!/bin/sh
echo "$@" >> "$(dirname "$0")/../calls"
echo "pip says: $@"
exit "$(cat "$(dirname "$0")/../rc" 2>/dev/null || echo 0)"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(PROJECT_ROOT / "scripts" / "bootstrap.py", tmp_path / "scripts" / "bootstrap.py")
    (tmp_path / "scripts" / "fetch_dashboard_assets.py").write_text("")  # the real one downloads
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    python = tmp_path / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def _bootstrap(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(project / "scripts" / "bootstrap.py"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _calls(project: Path) -> list[str]:
    path = project / ".venv" / "calls"
    calls = path.read_text().splitlines() if path.is_file() else []
    path.unlink(missing_ok=True)
    return calls


def test_bootstrap_installs_once_per_pyproject_and_stamps_its_sha256(project: Path) -> None:
    first = _bootstrap(project)
    assert first.returncode == 0, first.stderr
    assert "Installing the project into .venv (.)" in first.stdout
    assert _calls(project) == ["-m pip install --upgrade pip", "-m pip install -e ."]
    want = hashlib.sha256((project / "pyproject.toml").read_bytes()).hexdigest()
    assert (project / ".venv" / ".installed-base").read_text().strip() == want
    assert "pip says: -m pip install -e ." in (project / ".venv" / "install.log").read_text()

    assert _bootstrap(project).returncode == 0 and _calls(project) == []
    (project / "pyproject.toml").write_text('[project]\nname = "y"\n')
    assert _bootstrap(project).returncode == 0 and _calls(project)[-1] == "-m pip install -e ."


def test_bootstrap_an_install_with_extras_satisfies_a_plain_one_not_the_reverse(project: Path) -> None:
    assert _bootstrap(project, "test").returncode == 0
    assert _calls(project)[-1] == "-m pip install -e .[test]"
    assert (project / ".venv" / ".installed-test").is_file()
    assert _bootstrap(project).returncode == 0 and _calls(project) == []
    assert _bootstrap(project, "test,bench").returncode == 0
    assert _calls(project)[-1] == "-m pip install -e .[test,bench]"
    assert (project / ".venv" / ".installed-test-bench").is_file()


def test_bootstrap_failed_install_shows_the_log_tail_and_writes_no_stamp(project: Path) -> None:
    (project / ".venv" / "rc").write_text("1")
    result = _bootstrap(project)
    assert result.returncode == 1
    assert "pip says: -m pip install --upgrade pip" in result.stderr
    assert "installation failed; the whole pip output is in" in result.stderr
    assert not list((project / ".venv").glob(".installed-*"))


def test_bootstrap_run_executes_the_venv_python_with_the_arguments_and_its_exit_code(project: Path) -> None:
    assert _bootstrap(project).returncode == 0
    _calls(project)
    (project / ".venv" / "rc").write_text("7")
    result = _bootstrap(project, "--run", "-m", "launcher", "start")
    assert result.returncode == 7 and _calls(project) == ["-m launcher start"]


def test_bootstrap_bad_arguments_print_the_usage(project: Path) -> None:
    result = _bootstrap(project, "--what")
    assert result.returncode == 2 and "Usage:" in result.stderr and _calls(project) == []


def test_bootstrap_runs_the_dashboard_assets_script(project: Path) -> None:
    marker = project / "assets-fetched"
    (project / "scripts" / "fetch_dashboard_assets.py").write_text(
        f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ok')\n"
    )
    assert _bootstrap(project).returncode == 0 and marker.read_text() == "ok"


def test_bootstrap_venv_interpreter_path_per_os(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bootstrap", PROJECT_ROOT / "scripts" / "bootstrap.py")
    assert spec is not None and spec.loader is not None
    bootstrap = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bootstrap)
    venv = Path("v")
    monkeypatch.setattr(sys, "platform", "linux")
    assert bootstrap.venv_python(venv) == venv / "bin" / "python"
    monkeypatch.setattr(sys, "platform", "win32")
    assert bootstrap.venv_python(venv) == venv / "Scripts" / "python.exe"
