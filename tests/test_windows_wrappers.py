"""The Windows wrappers (.cmd, .ps1) cannot run here: they are checked to do what the bash ones do, by
the same Python entry points, with CRLF line endings (cmd.exe misparses some LF-only scripts)."""

from __future__ import annotations

import pytest

from shared.config import PROJECT_ROOT

START = r"scripts\bootstrap.py --run -m launcher start"
STOP = r"-m launcher stop"
NOTHING = "Nothing to stop: the platform was never installed here"


@pytest.mark.parametrize("ext", ["cmd", "ps1"])
def test_windows_wrappers_call_the_bootstrap_and_mt5p_like_the_shell_scripts(ext: str) -> None:
    start = (PROJECT_ROOT / f"start_all_services.{ext}").read_bytes()
    stop = (PROJECT_ROOT / f"stop_all_services.{ext}").read_bytes()
    assert START.encode() in start and b"py -3.11" in start
    assert STOP.encode() in stop and rb".venv\Scripts\python.exe" in stop and NOTHING.encode() in stop
    for text in (start, stop):
        assert text.count(b"\n") == text.count(b"\r\n") > 0
    shell = (PROJECT_ROOT / "start_all_services.sh").read_text()
    assert START.replace("\\", "/") in shell
    assert NOTHING in (PROJECT_ROOT / "stop_all_services.sh").read_text()
