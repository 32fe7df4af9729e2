"""The training job as it runs in a worker process.

The HTTP layer validates the request, writes the bars to a file (`shared.market.bar_spool`) and submits
`train_job` to the shared JobManager; the job reads the bars, trains, registers the model and removes the
file. Files left by a service that stopped mid-job are removed at the next start (`BarSpool.clear`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.ai.core.registry import ModelRegistry
from services.ai.core.training import TrainSpec, plan_training, spread_prices, train_and_register
from shared.jobs import JobContext
from shared.market.bar_spool import discard_bars, read_bars

KIND = "model"


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
        discard_bars(run["bars_file"])
    return {
        "model_id": record["id"],
        "name": record["name"],
        "version": record["version"],
        "headline": record["headline"],
    }
