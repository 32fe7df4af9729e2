"""Reading the end of a (log) file without reading all of it."""

from __future__ import annotations

import os
from pathlib import Path


def tail_lines(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a text file, reading only its end."""
    if not path.is_file():
        return []
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        block = min(size, max(4096, lines * 200))
        while True:
            fh.seek(size - block)
            chunk = fh.read(block)
            if chunk.count(b"\n") > lines or block == size:
                break
            block = min(size, block * 2)
    text = chunk.decode("utf-8", errors="replace").splitlines()
    return text[-lines:] if lines else []
