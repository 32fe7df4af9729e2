"""The kernels' cache folder follows the content of every module that holds kernels."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numba

from shared.jit import PROJECT_ROOT, cache_dir, kernel_sources_key

KERNELS = "from shared.jit import njit\n\nSKIP = 1\n"


def _tree(root: Path) -> Path:
    (root / "shared").mkdir(parents=True)
    (root / "services" / "backtesting").mkdir(parents=True)
    (root / "shared" / "constants.py").write_text(KERNELS)
    (root / "services" / "backtesting" / "loop.py").write_text(
        KERNELS + "from shared.constants import SKIP\n"
    )
    (root / "services" / "backtesting" / "api.py").write_text("ROUTES = []\n")
    return root


def test_a_change_to_any_kernel_module_is_a_new_cache_folder(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = kernel_sources_key(root)

    (root / "services" / "backtesting" / "api.py").write_text("ROUTES = ['/x']\n")  # holds no kernel
    unchanged = kernel_sources_key(root)
    (root / "shared" / "constants.py").write_text(KERNELS.replace("SKIP = 1", "SKIP = 2"))
    changed = kernel_sources_key(root)

    assert unchanged == before
    assert changed != before  # the caller in loop.py is unchanged, yet its cached copy is not reused


def test_the_cache_folder_is_under_numba_cache_dir_when_the_user_sets_it(tmp_path: Path) -> None:
    key = kernel_sources_key(PROJECT_ROOT)
    assert cache_dir(PROJECT_ROOT, str(tmp_path)) == tmp_path / key
    assert cache_dir(PROJECT_ROOT, None) == PROJECT_ROOT / ".cache" / "numba" / key
    assert Path(numba.config.CACHE_DIR).name == key


def test_a_compiled_kernel_is_cached_in_the_folder(tmp_path: Path) -> None:
    script = (
        "import numba\n"
        "from shared.trading.crossings import crossings\n"  # any kernel of the project
        "import numpy as np\n"
        "crossings(np.arange(5.0), np.arange(5.0)[::-1].copy())\n"
        "print(numba.config.CACHE_DIR)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    )
    folder = Path(out.stdout.strip())

    assert folder.parent == tmp_path
    assert list(folder.rglob("*.nbi")), "no index written"
