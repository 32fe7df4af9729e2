"""Starting training jobs: every check runs before the job exists, so a refused request persists nothing.

Order: model type, hyperparameters, features and embargo (`plan_training`); the bars (inline or from the
data service) and their size; then features and labels on those bars (`build_dataset`: enough bars,
more than one class). Only then are the bars written to a file and the job submitted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from services.ai.core.jobs import KIND, TrainJobSpec, TrainRuntime, TrainSource, train_job
from services.ai.core.market import BarWindow, DataBars, symbol_point
from services.ai.core.training import TrainSpec, build_dataset, plan_training
from services.ai.settings import AiSection
from shared.errors import InvalidInputError
from shared.jobs import JobManager
from shared.market.bar_spool import BarSpool, discard_bars


class TrainingLauncher:
    """Validates training requests and submits them as jobs."""

    def __init__(
        self,
        *,
        jobs: JobManager,
        bars: DataBars,
        files: BarSpool,
        section: AiSection,
        runtime: TrainRuntime,
    ) -> None:
        self._jobs = jobs
        self._bars = bars
        self._files = files
        self._section = section
        self._runtime = runtime

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
            source = TrainSource(
                source="data", from_s=window.from_s, to_s=window.to_s, bars=len(bars["time"])
            )
        else:
            assert inline is not None, "give a window or inline bars"
            bars = dict(inline)
            source = TrainSource(source="inline", bars=len(bars["time"]))
        n_bars = source.bars
        if n_bars > self._section.max_train_bars:
            raise InvalidInputError(
                f"{n_bars:,} bars exceed the limit of {self._section.max_train_bars:,} (ai.max_train_bars)",
                code="too_many_bars",
                details={"bars": n_bars, "max_bars": self._section.max_train_bars},
            )
        await asyncio.to_thread(build_dataset, plan, bars, min_fold_samples=self._runtime.min_fold_samples)
        bars_file = await asyncio.to_thread(self._files.write, bars)
        try:
            job = TrainJobSpec(
                symbol=symbol,
                timeframe=timeframe,
                source=source,
                spec=spec,
                bars_file=bars_file,
                point=symbol_point(symbol),
            )
            return self._jobs.submit(KIND, job, partial(train_job, self._runtime))
        except BaseException:
            discard_bars(bars_file)  # no job will ever read it
            raise
