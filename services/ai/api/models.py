"""The model registry and predictions: list, read, delete, predict."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from services.ai.api.deps import CacheDep, PredictorDep, RegistryDep
from services.ai.schemas import ModelSummary, PredictRequest
from shared.market.bar_body import body_schema, json_body
from shared.market.bar_input import PRICE_COLUMNS
from shared.service_app import FastJSONResponse

PredictBody = Annotated[PredictRequest, Depends(json_body(PredictRequest))]

router = APIRouter(tags=["models"])


@router.get("/models", response_model=list[ModelSummary])
def list_models(
    registry: RegistryDep, name: Annotated[str | None, Query(description="only versions of this name")] = None
) -> list[dict[str, Any]]:
    """Registered models, newest first, with headline metrics."""
    return registry.list(name)


@router.get("/models/{model_id}", response_class=FastJSONResponse)
def get_model(model_id: str, registry: RegistryDep) -> FastJSONResponse:
    """Metadata, metrics, features, label, training range, version, hyperparameters and seed of a model."""
    return FastJSONResponse(registry.get(model_id))


@router.delete("/models/{model_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_model(model_id: str, registry: RegistryDep, cache: CacheDep) -> None:
    registry.delete(model_id)
    cache.evict(model_id)


@router.post(
    "/models/{model_id}/predict",
    response_class=FastJSONResponse,
    openapi_extra=body_schema(PredictRequest),
)
async def predict(model_id: str, request: PredictBody, predictor: PredictorDep) -> FastJSONResponse:
    """Column-oriented predictions: row, time, class and class probabilities (or the predicted return)."""
    if request.bars is not None:
        bars = await asyncio.to_thread(request.bars.checked, positive=PRICE_COLUMNS)
        body = await predictor.on_bars(model_id, bars)
    elif request.features is not None:
        body = await predictor.on_features(model_id, request.features, request.time)
    else:
        # The schema gave all three (an empty string would be falsy, so no truthiness test here).
        assert request.symbol is not None and request.timeframe is not None and request.count is not None
        body = await predictor.on_latest(model_id, request.symbol, request.timeframe, request.count)
    return FastJSONResponse(body)
