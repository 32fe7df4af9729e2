"""Starting training jobs: every check runs before the job exists, so a refused request persists nothing.

Order: model type, hyperparameters, features and embargo (`plan_training`); the bars (inline or from the
data service) and their size; then features and labels on those bars (`build_dataset`: enough bars,
more than one class). Only then are the bars written to a file and the job submitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from services.ai.core.jobs import KIND, train_job
from services.ai.core.market import BarWindow, DataBars, symbol_point
from services.ai.core.training import TrainSpec, build_dataset, plan_training
from services.ai.settings import AiSection
from shared.errors import InvalidInputError
from shared.jobs import JobManager
from shared.market.bar_spool import BarSpool, discard_bars


@dataclass(frozen=True, slots=True)
class JobPaths:
    """Where a job process finds the registry (it runs in another process, so paths, not objects)."""

    registry_db: str
    models_dir: str


class TrainingLauncher:
    """Validates training requests and submits them as jobs."""

    def __init__(
        self, *, jobs: JobManager, bars: DataBars, files: BarSpool, section: AiSection, paths: JobPaths
    ) -> None:
        self._jobs = jobs
        self._bars = bars
        self._files = files
        self._section = section
        self._paths = paths

    async def start(
        self,
        spec: TrainSpec,
        *,
        window: BarWindow | None = None,
        inline: Mapping[str, np.ndarray] | None = None,
        symbol: str | None = None,
        timeframe: str | None = None,
    ) -> dict[str, Any]:
        """Validate and queue a training job; returns the job record at once."""
        plan = plan_training(spec)
        if window is not None:
            bars = await self._bars.window(window)
            symbol, timeframe = window.symbol, window.timeframe
            source: dict[str, Any] = {"source": "data", "from": window.from_s, "to": window.to_s}
        else:
            assert inline is not None, "give a window or inline bars"
            bars = dict(inline)
            source = {"source": "inline"}
        n_bars = len(bars["time"])
        if n_bars > self._section.max_train_bars:
            raise InvalidInputError(
                f"{n_bars:,} bars exceed the limit of {self._section.max_train_bars:,} (ai.max_train_bars)",
                code="too_many_bars",
                details={"bars": n_bars, "max_bars": self._section.max_train_bars},
            )
        await asyncio.to_thread(build_dataset, plan, bars, min_fold_samples=self._section.min_fold_samples)
        bars_file = await asyncio.to_thread(self._files.write, bars)
        params = {
            "name": spec.name,
            "model_type": spec.model_type,
            "symbol": symbol,
            "timeframe": timeframe,
            "source": {**source, "bars": n_bars},
            "spec": spec.model_dump(mode="json"),
            "_run": {
                "bars_file": bars_file,
                "registry_db": self._paths.registry_db,
                "models_dir": self._paths.models_dir,
                "min_fold_samples": self._section.min_fold_samples,
                "point": symbol_point(symbol),
                "default_spread_price": self._section.default_spread_price,
            },
        }
        try:
            return self._jobs.submit(KIND, params, train_job)
        except BaseException:
            discard_bars(bars_file)  # no job will ever read it
            raise
