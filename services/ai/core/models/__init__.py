"""Model types by name: their hyperparameters, library, input shape, and how to fit and save them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ValidationError

from services.ai.core.models import keras_models, sklearn_models
from services.ai.core.models.hyperparams import (
    HistGradientBoostingParams,
    Hyperparameters,
    LogisticRegressionParams,
    LstmParams,
    MlpParams,
    RandomForestParams,
)
from shared.errors import InvalidInputError
from shared.ml.artifacts import Framework, Task

ModelTypeName = Literal["logistic_regression", "random_forest", "hist_gradient_boosting", "mlp", "lstm"]
EpochHook = keras_models.EpochHook


@dataclass(frozen=True, slots=True)
class ModelKind:
    name: str
    framework: Framework
    params: type[Hyperparameters]
    tasks: tuple[Task, ...] = ("classification", "regression")

    def sequence_length(self, params: Hyperparameters) -> int:
        """Bars of features per input: 1, or the LSTM's sequence."""
        return params.sequence_length if isinstance(params, LstmParams) else 1

    def fit(
        self,
        params: Hyperparameters,
        task: Task,
        inputs: np.ndarray,
        targets: np.ndarray,
        *,
        classes: int,
        seed: int,
        on_epoch: EpochHook | None = None,
    ) -> Any:
        """A model fitted on (inputs, targets); classification targets are class indices."""
        if self.framework == "sklearn":
            return sklearn_models.fit(params, task, inputs, targets, seed)
        assert isinstance(params, MlpParams | LstmParams)
        return keras_models.fit(params, task, inputs, targets, classes=classes, seed=seed, on_epoch=on_epoch)

    def save(self, model: Any, directory: Path) -> None:
        """Write the model in its library's own format into `directory`."""
        (sklearn_models.save if self.framework == "sklearn" else keras_models.save)(model, directory)


MODEL_KINDS: dict[str, ModelKind] = {
    kind.name: kind
    for kind in (
        ModelKind("logistic_regression", "sklearn", LogisticRegressionParams, tasks=("classification",)),
        ModelKind("random_forest", "sklearn", RandomForestParams),
        ModelKind("hist_gradient_boosting", "sklearn", HistGradientBoostingParams),
        ModelKind("mlp", "keras", MlpParams),
        ModelKind("lstm", "keras", LstmParams),
    )
}


def model_kind(name: str) -> ModelKind:
    try:
        return MODEL_KINDS[name]
    except KeyError:
        raise InvalidInputError(
            f"model_type: unknown model type {name!r}",
            code="unknown_model_type",
            details={"field": "model_type", "available": sorted(MODEL_KINDS)},
        ) from None


def validate_hyperparameters(kind: ModelKind, task: Task, values: Mapping[str, Any]) -> Hyperparameters:
    """The model type's hyperparameters from `values`; InvalidInputError naming the field otherwise."""
    if task not in kind.tasks:
        raise InvalidInputError(
            f"{kind.name} is a classifier; use a direction label",
            code="unsupported_label",
            details={"field": "label.kind", "model_type": kind.name},
        )
    try:
        params = kind.params.model_validate(dict(values))
    except ValidationError as exc:
        errors = [
            {"field": "hyperparameters." + ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors(include_url=False)
        ]
        raise InvalidInputError(
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            code="invalid_hyperparameters",
            details={"model_type": kind.name, "errors": errors, "field": errors[0]["field"]},
        ) from None
    if task == "regression" and getattr(params, "class_weight", None) is not None:
        raise InvalidInputError(
            "hyperparameters.class_weight: only for direction labels",
            code="invalid_hyperparameters",
            details={"model_type": kind.name, "field": "hyperparameters.class_weight"},
        )
    return params
