"""The code's own conventions, checked like behaviour: ruff (lint and format) and mypy run clean."""

from __future__ import annotations

import subprocess
import sys

from shared.config import PROJECT_ROOT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint_and_format_are_clean() -> None:
    lint = _run("ruff", "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", ".")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_is_clean_on_shared_and_services() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
