"""The training job: its typed spec and its function, as it runs in a worker process.

The launcher validates the request, writes the bars to a file (`shared.market.bar_spool`) and submits a
`TrainJobSpec` with `train_job` (the service's `TrainRuntime` bound to it) to the shared JobManager; the job
reads the bars, trains, registers the model and removes the file. Files left by a service that stopped
mid-job are removed at the next start (`BarSpool.clear`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.ai.core.registry import ModelRegistry
from services.ai.core.training import TrainSpec, plan_training, spread_prices, train_and_register
from shared.jobs import JobContext, JobSpec
from shared.market.bar_spool import discard_bars, read_bars

KIND = "model"


@dataclass(frozen=True, slots=True)
class TrainRuntime:
    """What every training worker needs from the service (it runs in another process: paths, not objects)."""

    registry_db: str
    models_dir: str
    min_fold_samples: int
    default_spread_price: float


class TrainSource(BaseModel):
    """Where the bars came from: the data service's [from, to] (epoch seconds), or the request itself."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    source: Literal["data", "inline"]
    from_s: int | None = Field(default=None, validation_alias="from", serialization_alias="from")
    to_s: int | None = Field(default=None, validation_alias="to", serialization_alias="to")
    bars: int


class TrainJobSpec(JobSpec):
    """A checked training request and its bars file (which only the worker reads)."""

    symbol: str | None
    timeframe: str | None
    source: TrainSource
    spec: TrainSpec
    bars_file: str = Field(exclude=True)
    point: float | None = Field(exclude=True)  # the symbol's, for a spread given in points

    def stored_params(self) -> dict[str, Any]:
        stored = self.model_dump(mode="json", by_alias=True)
        stored["source"] = self.source.model_dump(mode="json", by_alias=True, exclude_none=True)
        return {"name": self.spec.name, "model_type": self.spec.model_type, **stored}


def train_job(runtime: TrainRuntime, job: TrainJobSpec, ctx: JobContext) -> dict[str, Any]:
    """Job function: train the model `job` describes and register it; returns its summary."""
    stored = job.stored_params()
    try:
        bars = read_bars(job.bars_file)
        plan = plan_training(job.spec)
        spread, spread_source = spread_prices(bars, plan.spec.costs, job.point, runtime.default_spread_price)
        registry = ModelRegistry(Path(runtime.registry_db), Path(runtime.models_dir))
        try:
            ctx.progress(0.0, "features and labels", stage="prepare")
            record = train_and_register(
                plan,
                bars,
                registry=registry,
                reporter=ctx,
                min_fold_samples=runtime.min_fold_samples,
                spread_price=spread,
                spread_source=spread_source,
                source={key: stored[key] for key in ("symbol", "timeframe", "source")}
                | {"job_id": ctx.job_id},
            )
        finally:
            registry.close()
    finally:
        discard_bars(job.bars_file)
    return {
        "model_id": record["id"],
        "name": record["name"],
        "version": record["version"],
        "headline": record["headline"],
    }
