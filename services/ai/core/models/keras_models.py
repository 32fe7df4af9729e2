"""TensorFlow/Keras models: an MLP over one bar's features and an LSTM over a sequence of bars.

Inputs are standardised by a Normalization layer adapted on the training set, and regression outputs are
rescaled by the training targets' spread, so the saved `.keras` file is the whole model: loading it needs
no side files and no custom objects.

Reproducibility: `keras.utils.set_random_seed` seeds Python, NumPy and TensorFlow, and op determinism is
switched on, so the same data and seed give the same weights on the same machine and TensorFlow build.
Results can still differ across CPU types or TensorFlow versions (different kernels, oneDNN paths).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from services.ai.core.models.hyperparams import LstmParams, MlpParams
from shared.ml.artifacts import KERAS_FILE, Task, keras_module

EpochHook = Callable[[int, int], None]  # (epochs done, epochs in all); may raise to stop training


def _seed(seed: int) -> Any:
    keras = keras_module()
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return keras


def build(
    params: MlpParams | LstmParams, task: Task, inputs: np.ndarray, targets: np.ndarray, classes: int
) -> Any:
    """A compiled model whose input normalisation is adapted to `inputs`."""
    keras = keras_module()
    layers = keras.layers
    inp = keras.Input(shape=inputs.shape[1:])
    norm = layers.Normalization(axis=-1)
    norm.adapt(inputs)
    x = norm(inp)
    if isinstance(params, LstmParams):
        x = layers.LSTM(params.units)(x)
        if params.dropout:
            x = layers.Dropout(params.dropout)(x)
        hidden = [params.dense_units] if params.dense_units else []
    else:
        hidden = params.hidden_units
    for units in hidden:
        x = layers.Dense(units, activation="relu")(x)
        if params.dropout:
            x = layers.Dropout(params.dropout)(x)
    if task == "classification":
        out = layers.Dense(classes, activation="softmax")(x)
        loss = "sparse_categorical_crossentropy"
    else:
        # Returns are ~1e-3; learning them in units of their spread keeps the optimiser well scaled.
        scale = float(np.std(targets)) or 1.0
        out = layers.Rescaling(scale)(layers.Dense(1)(x))
        loss = "mse"
    model = keras.Model(inp, out)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=params.learning_rate), loss=loss)
    return model


def fit(
    params: MlpParams | LstmParams,
    task: Task,
    inputs: np.ndarray,
    targets: np.ndarray,
    *,
    classes: int,
    seed: int,
    on_epoch: EpochHook | None = None,
) -> Any:
    """Fit a new model; `on_epoch` runs after every epoch and may raise to stop (e.g. on cancel)."""
    keras = _seed(seed)
    model = build(params, task, inputs, targets, classes)
    callbacks = []
    if on_epoch is not None:
        hook = on_epoch

        class _Progress(keras.callbacks.Callback):  # type: ignore[name-defined]
            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                hook(epoch + 1, params.epochs)

        callbacks.append(_Progress())
    y = targets.astype(np.int32 if task == "classification" else np.float32)
    model.fit(
        inputs,
        y,
        epochs=params.epochs,
        batch_size=params.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    return model


def save(model: Any, directory: Path) -> None:
    model.save(directory / KERAS_FILE)
