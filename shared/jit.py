"""numba's `njit`, with an on-disk cache that an upgrade cannot leave stale.

numba keys a function's cache on its own source file only. A kernel that calls a kernel of another module,
or reads another module's constants (the fill loops read `fills.SKIP_*`), keeps its compiled copy of the
old code after that other file changes: after an upgrade a backtest would run yesterday's fill rules, or
fail with an IndexError. So every cached kernel is kept in one folder named for the content of all the
modules that hold kernels (and numba's version); a change to any of them starts a fresh folder.

Import `njit` from here, never from numba, so the folder is chosen before the first kernel is decorated.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
from numba import njit

PROJECT_ROOT = Path(__file__).resolve().parents[1]
_SOURCE_DIRS = ("shared", "services")
_MARKER = b"from shared.jit import njit"


def kernel_sources_key(root: Path) -> str:
    """A digest of every module under `root` that holds kernels (those importing `njit` from here)."""
    digest = hashlib.sha256(numba.__version__.encode())
    for path in sorted(p for d in _SOURCE_DIRS for p in (root / d).rglob("*.py")):
        text = path.read_bytes()
        if _MARKER in text:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + text)
    return digest.hexdigest()[:16]


def cache_dir(root: Path, base: str | None) -> Path:
    """Where the kernels of the sources under `root` are cached: under `base` (NUMBA_CACHE_DIR) if set."""
    return Path(base or root / ".cache" / "numba") / kernel_sources_key(root)


numba.config.CACHE_DIR = str(cache_dir(PROJECT_ROOT, os.environ.get("NUMBA_CACHE_DIR")))  # type: ignore[attr-defined]

__all__ = ["njit"]
