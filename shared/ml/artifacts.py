"""Trained model artifacts: the folder format, finding a model by id or name, loading it, and predicting.

A registered model is a folder `<models_dir>/<name>/<version>/` holding `meta.json` (what inference needs:
features, classes, sequence length, framework) and the model in its library's own format:
`model.joblib` (a scikit-learn pipeline) or `model.keras` (a Keras model). The ai service writes these
folders and keeps the full metadata (metrics, training range) in its database; the `ml_signal` strategy
reads the folders directly, so backtests and live strategies need no HTTP call per bar.

scikit-learn and TensorFlow are imported only when a model of that library is loaded or trained.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field

from shared.errors import InvalidInputError, NotFoundError
from shared.ml.features import FeatureSpec, build_features, features_lookback

META_FILE = "meta.json"
SKLEARN_FILE = "model.joblib"
KERAS_FILE = "model.keras"
MODELS_SUBDIR = "models"  # under the platform's data_dir
CLASS_NAMES = {-1: "down", 0: "flat", 1: "up"}

Framework = Literal["sklearn", "keras"]
Task = Literal["classification", "regression"]


class ArtifactMeta(BaseModel):
    """What inference needs to know about a model, stored beside it as meta.json."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    name: str
    version: int = Field(ge=1)
    model_type: str
    framework: Framework
    task: Task
    features: list[FeatureSpec]
    feature_columns: list[str]
    classes: list[str] = Field(description="output order of the probabilities; empty for regression")
    sequence_length: int = Field(default=1, ge=1)

    @property
    def lookback(self) -> int:
        """Bars before the first predictable one (feature windows plus the input sequence)."""
        return features_lookback(self.features) + self.sequence_length - 1


def keras_module() -> Any:
    """TensorFlow's Keras, imported on first use (it takes seconds, so never at service start)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # C++ log noise; Python errors still raise
    from tensorflow import keras

    return keras


def model_inputs(matrix: np.ndarray, rows: np.ndarray, sequence_length: int) -> np.ndarray:
    """Inputs for the samples at `rows`: feature rows (n, k), or the windows ending at them (n, L, k)."""
    if sequence_length == 1:
        return np.ascontiguousarray(matrix[rows], dtype=np.float32)
    if len(rows) == 0:  # also when there are fewer rows than one window, which sliding_window_view refuses
        return np.empty((0, sequence_length, matrix.shape[1]), dtype=np.float32)
    windows = sliding_window_view(matrix, sequence_length, axis=0)  # (bars - L + 1, k, L)
    return np.ascontiguousarray(windows[rows - sequence_length + 1].transpose(0, 2, 1), dtype=np.float32)


def complete_rows(matrix: np.ndarray, sequence_length: int) -> np.ndarray:
    """True at rows where the features of that row and the `sequence_length - 1` before it are all finite."""
    finite = np.isfinite(matrix).all(axis=1)
    if sequence_length == 1:
        return finite
    out = np.zeros(len(finite), dtype=bool)
    if len(finite) >= sequence_length:
        out[sequence_length - 1 :] = sliding_window_view(finite, sequence_length).all(axis=1)
    return out


def predict_output(framework: Framework, task: Task, model: Any, inputs: np.ndarray) -> np.ndarray:
    """Class probabilities (n, classes) or predicted returns (n,), the same way in training and serving."""
    if len(inputs) == 0:
        return np.empty((0,)) if task == "regression" else np.empty((0, 0))
    if framework == "sklearn":
        out = model.predict_proba(inputs) if task == "classification" else model.predict(inputs)
    else:
        # predict_on_batch runs the compiled graph without predict()'s per-call set-up (an eager call of
        # an LSTM is ~20x slower); it retraces for the first few batch sizes, then generalises.
        out = np.asarray(model.predict_on_batch(inputs))
        if task == "regression":
            out = out.reshape(-1)
    return np.asarray(out, dtype=np.float64)


class LoadedModel:
    """A model ready to predict on bars or on a feature matrix."""

    def __init__(self, meta: ArtifactMeta, model: Any) -> None:
        self.meta = meta
        self._model = model

    def predict_matrix(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(rows, output) for every row of `matrix` whose input window is complete."""
        if matrix.shape[1] != len(self.meta.feature_columns):
            raise InvalidInputError(
                f"model {self.meta.id} expects {len(self.meta.feature_columns)} feature columns, "
                f"got {matrix.shape[1]}",
                code="feature_mismatch",
                details={"expected": self.meta.feature_columns},
            )
        rows = np.flatnonzero(complete_rows(matrix, self.meta.sequence_length))
        inputs = model_inputs(matrix, rows, self.meta.sequence_length)
        return rows, predict_output(self.meta.framework, self.meta.task, self._model, inputs)

    def predict_bars(self, bars: Any) -> tuple[np.ndarray, np.ndarray]:
        """(rows, output) for the bars whose features and input window are complete."""
        n = len(bars["time"])
        if n <= self.meta.lookback:
            raise InvalidInputError(
                f"model {self.meta.id} needs more than {self.meta.lookback} bars to fill its feature "
                f"windows, got {n}",
                code="too_few_bars",
                details={"bars": n, "needed": self.meta.lookback + 1},
            )
        return self.predict_matrix(build_features(bars, self.meta.features))


def read_meta(directory: Path) -> ArtifactMeta:
    """The meta.json of a model folder."""
    return ArtifactMeta.model_validate_json((directory / META_FILE).read_text())


def load_model(directory: Path) -> LoadedModel:
    """Load the model stored in `directory` with its own library."""
    meta = read_meta(directory)
    if meta.framework == "sklearn":
        import joblib  # trusted input: artifacts are written by this platform's own training jobs

        model = joblib.load(directory / SKLEARN_FILE)
    else:
        model = keras_module().models.load_model(directory / KERAS_FILE, compile=False)
    return LoadedModel(meta, model)


def unknown_model(reference: str) -> NotFoundError:
    return NotFoundError(f"unknown model {reference}", code="unknown_model", details={"model": reference})


def find_model_dir(
    models_dir: Path, *, model_id: str | None = None, name: str | None = None, version: int | None = None
) -> Path:
    """The folder of a model by id, or by name and version (the latest version when none is given)."""
    if model_id is not None:
        for meta_file in sorted(models_dir.glob(f"[!.]*/*/{META_FILE}")):
            if read_meta(meta_file.parent).id == model_id:
                return meta_file.parent
        raise unknown_model(repr(model_id))
    assert name is not None, "give model_id or name"
    versions = sorted(
        (
            int(p.name)
            for p in (models_dir / name).glob("*")
            if p.name.isdigit() and (p / META_FILE).is_file()
        ),
    )
    wanted = version if version is not None else (versions[-1] if versions else None)
    if wanted is None or wanted not in versions:
        reference = f"{name!r}" + (f" version {version}" if version is not None else "")
        raise unknown_model(reference)
    return models_dir / name / str(wanted)


def default_models_dir() -> Path:
    """`<data_dir>/models` of the platform config ($MT5P_CONFIG, else the project's config.json)."""
    from shared.config import load_config

    return load_config().data_dir / MODELS_SUBDIR
