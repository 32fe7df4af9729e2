"""Every benchmark script still loads: benchmarks are not tests (no timing is asserted anywhere), but a
script whose imports broke would only be found when someone next wants its figure."""

from __future__ import annotations

import subprocess
import sys

from shared.config import PROJECT_ROOT

BENCH = PROJECT_ROOT / "bench"

# Each script's module body runs as it would from `python bench/<name>.py` (its folder first on the path),
# under a name other than __main__, so no benchmark starts.
LOAD_ALL = """
import runpy, sys
sys.path.insert(0, "bench")
for script in sys.argv[1:]:
    runpy.run_path(script, run_name="bench_load_check")
"""


def test_every_bench_script_loads() -> None:
    scripts = sorted(str(path.relative_to(PROJECT_ROOT)) for path in BENCH.glob("*.py"))

    result = subprocess.run(
        [sys.executable, "-c", LOAD_ALL, *scripts],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert len(scripts) >= 8
    assert result.returncode == 0, result.stderr
