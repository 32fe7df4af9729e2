"""Bars handed from the HTTP layer to a job process through a file, so they never enter the job database.

A request's bars (posted inline or fetched from the data service) are written once as an uncompressed
`.npz` of columns; the job reads them in its worker process and removes the file when it ends. Files left
by a service that stopped mid-job are removed at the next start (such jobs are marked failed then),
except those of jobs that resume.
Used by every service whose jobs run on bars (ai training, backtesting runs).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np


class BarSpool:
    """A folder of bar files, one per queued or running job."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def clear(self, keep: Collection[str] = ()) -> int:
        """Remove every file but those of jobs resuming (`keep`; call at start, before any job runs); returns
        how many were removed."""
        kept = {Path(path).resolve() for path in keep}
        removed = 0
        for file in self.folder.glob("*.npz"):
            if file.resolve() in kept:
                continue
            file.unlink(missing_ok=True)
            removed += 1
        return removed

    def write(self, columns: Mapping[str, np.ndarray]) -> str:
        """Store `columns` in a new file; returns its path."""
        path = self.folder / f"{uuid.uuid4().hex}.npz"
        arrays: dict[str, Any] = {name: np.ascontiguousarray(values) for name, values in columns.items()}
        np.savez(path, **arrays)
        return str(path)


def read_bars(path: str) -> dict[str, np.ndarray]:
    """The columns stored at `path`."""
    with np.load(path) as stored:
        return {name: stored[name] for name in stored.files}


def discard_bars(path: str) -> None:
    """Remove a bar file once its job is done with it."""
    Path(path).unlink(missing_ok=True)
