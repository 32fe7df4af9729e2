"""scikit-learn models: logistic regression, random forest and histogram gradient boosting.

Seeded through `random_state`; with the same data and seed a fit gives the same model. Saved with joblib
(scikit-learn's own persistence), loaded by shared.ml.artifacts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from services.ai.core.models.hyperparams import (
    HistGradientBoostingParams,
    Hyperparameters,
    LogisticRegressionParams,
    RandomForestParams,
)
from shared.ml.artifacts import SKLEARN_FILE, Task


def build_estimator(params: Hyperparameters, task: Task, seed: int) -> Any:
    """An unfitted estimator for `params`' model type and the task."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    options = params.model_dump()
    classify = task == "classification"
    if isinstance(params, LogisticRegressionParams):
        return make_pipeline(StandardScaler(), LogisticRegression(**options, random_state=seed))
    if isinstance(params, RandomForestParams):
        if not classify:
            options.pop("class_weight")
        cls = RandomForestClassifier if classify else RandomForestRegressor
        return cls(**options, random_state=seed)
    if isinstance(params, HistGradientBoostingParams):
        if not classify:
            options.pop("class_weight")
        cls = HistGradientBoostingClassifier if classify else HistGradientBoostingRegressor
        # Early stopping would hold out a random validation split; the walk-forward folds already do.
        return cls(**options, early_stopping=False, random_state=seed)
    raise TypeError(f"not a scikit-learn model: {type(params).__name__}")


def fit(params: Hyperparameters, task: Task, inputs: np.ndarray, targets: np.ndarray, seed: int) -> Any:
    """Fit a new estimator on (inputs, targets); classification targets are class indices."""
    estimator = build_estimator(params, task, seed)
    estimator.fit(inputs, targets)
    return estimator


def save(estimator: Any, directory: Path) -> None:
    import joblib

    joblib.dump(estimator, directory / SKLEARN_FILE)
