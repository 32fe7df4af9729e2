"""Predictions with registered models: loaded lazily, kept in a small LRU cache, shaped column-oriented."""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from services.ai.core.market import DataBars
from services.ai.core.registry import ModelRegistry
from shared.errors import InvalidInputError
from shared.market.coverage import of_times
from shared.ml.artifacts import LoadedModel, load_model


class ModelCache:
    """The `capacity` most recently used models, loaded on first use. Thread-safe."""

    def __init__(self, registry: ModelRegistry, capacity: int) -> None:
        self._registry = registry
        self._capacity = capacity
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model_id: str) -> LoadedModel:
        """The loaded model; NotFoundError(unknown_model) for an id the registry does not hold."""
        with self._lock:
            model = self._models.get(model_id)
            if model is not None:
                self._models.move_to_end(model_id)
                return model
        # Loading can take seconds (a first Keras model imports TensorFlow): not under the lock.
        model = load_model(self._registry.path(model_id))
        with self._lock:
            self._models[model_id] = model
            while len(self._models) > self._capacity:
                self._models.popitem(last=False)
        return model

    def evict(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)


def feature_matrix(model: LoadedModel, columns: Mapping[str, Sequence[float | None]]) -> np.ndarray:
    """A matrix in the model's column order from named columns; refuses a set that does not match."""
    expected = model.meta.feature_columns
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    if missing or extra:
        raise InvalidInputError(
            f"features do not match model {model.meta.id}: missing {missing or 'none'}, unexpected {extra or 'none'}",
            code="feature_mismatch",
            details={"field": "features", "missing": missing, "unexpected": extra, "expected": expected},
        )
    lengths = {len(columns[c]) for c in expected}
    if len(lengths) != 1:
        raise InvalidInputError(
            "feature columns differ in length", code="invalid_features", details={"field": "features"}
        )
    return np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in expected])


def shape_predictions(
    model: LoadedModel, times: np.ndarray | None, rows: np.ndarray, output: np.ndarray
) -> dict[str, Any]:
    """Column-oriented predictions: time (when known), class and probabilities, or the predicted return."""
    meta = model.meta
    body: dict[str, Any] = {"model_id": meta.id, "name": meta.name, "version": meta.version, "row": rows}
    if times is not None:
        body["time"] = times[rows]
    if meta.task == "regression":
        body["prediction"] = output
        return body
    if not len(rows):  # no row with complete inputs
        body["class"], body["probabilities"] = [], {name: [] for name in meta.classes}
        return body
    classes = np.array(meta.classes)
    body["class"] = classes[output.argmax(axis=1)].tolist()
    body["probabilities"] = {name: np.ascontiguousarray(output[:, i]) for i, name in enumerate(meta.classes)}
    return body


def predict_bars(
    model: LoadedModel, bars: Mapping[str, np.ndarray], last: int | None = None
) -> dict[str, Any]:
    """Predictions for every bar with complete inputs (only the `last` ones when given)."""
    rows, output = model.predict_bars(bars)
    if last is not None:
        rows, output = rows[-last:], output[-last:]
    return shape_predictions(model, np.asarray(bars["time"], dtype=np.int64), rows, output)


def predict_features(
    model: LoadedModel, columns: Mapping[str, Sequence[float | None]], times: Sequence[int] | None
) -> dict[str, Any]:
    """Predictions from a posted feature matrix (named columns)."""
    matrix = feature_matrix(model, columns)
    if times is not None and len(times) != len(matrix):
        raise InvalidInputError(
            f"time has {len(times)} values, the features {len(matrix)}",
            code="invalid_features",
            details={"field": "time"},
        )
    rows, output = model.predict_matrix(matrix)
    return shape_predictions(
        model, None if times is None else np.asarray(times, dtype=np.int64), rows, output
    )


class Predictor:
    """Predictions off the event loop: models from the cache, bars inline or from the data service."""

    def __init__(self, cache: ModelCache, bars: DataBars, *, warmup_bars: int, max_bars: int) -> None:
        self._cache = cache
        self._bars = bars
        self._warmup_bars = warmup_bars
        self._max_bars = max_bars

    async def model(self, model_id: str) -> LoadedModel:
        return await asyncio.to_thread(self._cache.get, model_id)

    async def on_bars(self, model_id: str, bars: Mapping[str, np.ndarray]) -> dict[str, Any]:
        self._check_size(len(bars["time"]))
        model = await self.model(model_id)
        body = await asyncio.to_thread(predict_bars, model, bars)
        # Posted bars carry no calendar: their coverage is what was posted, with holes unknown (null).
        return {**body, "coverage": of_times(bars["time"]).to_dict()}

    async def on_latest(self, model_id: str, symbol: str, timeframe: str, count: int) -> dict[str, Any]:
        """Predictions for the newest `count` bars, reading enough history before them to fill the inputs."""
        self._check_size(count)
        model = await self.model(model_id)
        bars, coverage = await self._bars.latest(
            symbol, timeframe, count + model.meta.lookback + self._warmup_bars
        )
        body = await asyncio.to_thread(predict_bars, model, bars, count)
        # The coverage is of every bar read (the look-back included): a hole there shapes the inputs too.
        return {**body, "coverage": (coverage or of_times(bars["time"])).to_dict()}

    async def on_features(
        self, model_id: str, columns: Mapping[str, Sequence[float | None]], times: Sequence[int] | None
    ) -> dict[str, Any]:
        model = await self.model(model_id)
        return await asyncio.to_thread(predict_features, model, columns, times)

    def _check_size(self, n: int) -> None:
        if n > self._max_bars:
            raise InvalidInputError(
                f"{n:,} bars exceed the limit of {self._max_bars:,} (ai.max_predict_bars)",
                code="too_many_bars",
                details={"bars": n, "max_bars": self._max_bars},
            )
