"""`mt5p logs [service] [-n N] [-f]`: the end of a service's log, optionally followed as it grows."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from shared.tail import tail_lines

FOLLOW_POLL_S = 0.25


def show(path: Path, lines: int, follow: bool) -> int:
    if not path.is_file() and not follow:
        print(f"No log yet: {path}", file=sys.stderr)
        return 1
    for line in tail_lines(path, lines):
        print(line)
    if follow:
        _follow(path)
    return 0


def _follow(path: Path) -> None:
    """Print what is appended until interrupted; starts over when the file is rotated (it shrinks)."""
    offset = path.stat().st_size if path.is_file() else 0
    try:
        while True:
            size = path.stat().st_size if path.is_file() else 0
            if size < offset:
                offset = 0
            if size > offset:
                with open(path, "rb") as fh:
                    fh.seek(offset)
                    chunk = fh.read(size - offset)
                offset = size
                sys.stdout.write(chunk.decode("utf-8", errors="replace"))
                sys.stdout.flush()
            time.sleep(FOLLOW_POLL_S)
    except KeyboardInterrupt:
        pass
