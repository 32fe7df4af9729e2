"""Reading the end of a (log) file without reading all of it, and telling the supervisor's health polls apart."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

# The supervisor's own successful `/health` poll, as httpx logs it: one line per service every few seconds.
_HEALTH_POLL = re.compile(r'HTTP Request: GET \S+/health "HTTP/[\d.]+ 200 ')


def is_health_check(line: str) -> bool:
    """Whether `line` is a successful health poll (a failing one is what an operator looks for: kept)."""
    return _HEALTH_POLL.search(line) is not None


def tail_lines(path: Path, lines: int, keep: Callable[[str], bool] | None = None) -> list[str]:
    """The last `lines` lines of a text file that `keep` accepts (all when None), reading only its end:
    further back, up to the whole file (bounded by log rotation), while too few are kept."""
    if not path.is_file() or not lines:
        return []
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        block = min(size, max(4096, lines * 200))
        while True:
            fh.seek(size - block)
            text = fh.read(block).decode("utf-8", errors="replace").splitlines()
            if block < size:
                text = text[1:]  # the block's first line may be cut
            kept = [line for line in text if keep is None or keep(line)]
            if len(kept) >= lines or block == size:
                return kept[-lines:]
            block = min(size, block * 2)
