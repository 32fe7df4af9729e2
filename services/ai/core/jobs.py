"""The training job as it runs in a worker process, and the bar files that hand it its bars.

The HTTP layer validates the request, writes the bars to a file (`BarFiles.write`) and submits
`train_job` to the shared JobManager; the job reads the bars, trains, registers the model and removes the
file. Files left by a service that stopped mid-job are removed at the next start (`BarFiles.clear`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from services.ai.core.registry import ModelRegistry
from services.ai.core.training import TrainSpec, plan_training, spread_prices, train_and_register
from shared.jobs import JobContext

KIND = "model"


class BarFiles:
    """A folder of `.npz` bar files, one per queued or running job."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def clear(self) -> int:
        """Remove every file (call at start, before any job runs); returns how many were removed."""
        files = list(self.folder.glob("*.npz"))
        for file in files:
            file.unlink(missing_ok=True)
        return len(files)

    def write(self, columns: Mapping[str, np.ndarray]) -> str:
        path = self.folder / f"{uuid.uuid4().hex}.npz"
        arrays: dict[str, Any] = {name: np.ascontiguousarray(values) for name, values in columns.items()}
        np.savez(path, **arrays)
        return str(path)


def read_bars(path: str) -> dict[str, np.ndarray]:
    with np.load(path) as stored:
        return {name: stored[name] for name in stored.files}


def train_job(params: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """Job function: train the model described by `params` and register it; returns its summary."""
    run = params["_run"]
    try:
        bars = read_bars(run["bars_file"])
        plan = plan_training(TrainSpec.model_validate(params["spec"]))
        spread, spread_source = spread_prices(
            bars, plan.spec.costs, run["point"], run["default_spread_price"]
        )
        registry = ModelRegistry(Path(run["registry_db"]), Path(run["models_dir"]))
        try:
            ctx.progress(0.0, "features and labels", stage="prepare")
            record = train_and_register(
                plan,
                bars,
                registry=registry,
                reporter=ctx,
                min_fold_samples=run["min_fold_samples"],
                spread_price=spread,
                spread_source=spread_source,
                source={key: params.get(key) for key in ("symbol", "timeframe", "source")}
                | {"job_id": ctx.job_id},
            )
        finally:
            registry.close()
    finally:
        Path(run["bars_file"]).unlink(missing_ok=True)
    return {
        "model_id": record["id"],
        "name": record["name"],
        "version": record["version"],
        "headline": record["headline"],
    }
