"""The ai service's app: feature pipelines, model training, model registry, prediction.

Neither scikit-learn nor TensorFlow is imported here: training runs in job processes, and a model's
library is imported when the first model of it is loaded, so the service starts in well under a second.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from services.ai.api import routers
from services.ai.core.jobs import KIND, TrainRuntime
from services.ai.core.launcher import TrainingLauncher
from services.ai.core.market import DataBars
from services.ai.core.predictor import ModelCache, Predictor
from services.ai.core.registry import ModelRegistry
from services.ai.settings import AiSettings
from shared.contracts.data import DataClient
from shared.event_catalog import MODEL_TRAINED, job_event
from shared.event_payloads import ModelTrained
from shared.events import EventBus
from shared.jobs import JobCatalog, JobManager
from shared.market.bar_spool import BarSpool
from shared.service_app import create_service_app

NAME = "ai"
log = logging.getLogger(__name__)


def _announce_trained(bus: EventBus, jobs: JobManager) -> None:
    """Follow each completed training job with a `model.trained` event naming the registered model."""
    loop = asyncio.get_running_loop()

    def on_event(event: Mapping[str, Any]) -> None:
        if event["type"] != job_event(KIND, "completed"):
            return
        job = jobs.get(event["data"]["job_id"], with_result=True)
        data = {"job_id": job["id"], **(job["result"] or {})}
        if job["params"].get("symbol"):
            data["symbol"] = job["params"]["symbol"]
        loop.call_soon(
            bus.publish, MODEL_TRAINED, ModelTrained.model_validate(data)
        )  # not from inside the bus's own dispatch

    bus.add_listener(on_event)


def create_app(settings: AiSettings) -> FastAPI:
    section = settings.ai

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        registry = ModelRegistry(settings.registry_db_path, settings.models_dir)
        if removed := registry.recover():
            log.info("removed %d unregistered artifact folders left by interrupted jobs", len(removed))
        jobs = JobManager(
            settings.jobs_db_path,
            app.state.bus,
            workers=section.workers,
            progress_interval_s=section.progress_interval_s,
        )
        files = BarSpool(settings.jobs_db_path.parent / "bars")
        files.clear()
        bars = DataBars(DataClient.from_settings(settings, timeout_s=section.data_timeout_s))
        cache = ModelCache(registry, section.model_cache_size)
        app.state.registry = registry
        app.state.model_cache = cache
        app.state.predictor = Predictor(
            cache, bars, warmup_bars=section.predict_warmup_bars, max_bars=section.max_predict_bars
        )
        app.state.catalog = JobCatalog(jobs)
        app.state.launcher = TrainingLauncher(
            jobs=jobs,
            bars=bars,
            files=files,
            section=section,
            runtime=TrainRuntime(
                registry_db=str(settings.registry_db_path),
                models_dir=str(settings.models_dir),
                min_fold_samples=section.min_fold_samples,
                default_spread_price=section.default_spread_price,
            ),
        )
        jobs.start()
        _announce_trained(app.state.bus, jobs)
        try:
            yield
        finally:
            await jobs.aclose()
            await bars.aclose()
            registry.close()

    async def health(app: FastAPI) -> dict[str, Any]:
        return {"registry": {"ok": True, "models": app.state.registry.count()}}

    return create_service_app(
        NAME,
        settings,
        routers=routers,
        lifespan=lifespan,
        health_checks=health,
        description="Feature pipelines, model training (scikit-learn, TensorFlow/Keras), model registry, prediction.",
    )
