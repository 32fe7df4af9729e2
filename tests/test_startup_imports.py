"""Start-up stays light: a service's app module imports none of TA-Lib, pandas and numba (~0.5 s together),
which are imported where they are used. The pattern service is left out: TA-Lib is what it serves."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shared.config import PROJECT_ROOT

HEAVY = ("talib", "pandas", "numba")


@pytest.mark.parametrize("service", ["backend_api", "data", "mt5", "strategy", "backtesting", "ai"])
def test_service_start_up_imports_no_talib_pandas_or_numba(service: str) -> None:
    code = f"import services.{service}.main, sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []
