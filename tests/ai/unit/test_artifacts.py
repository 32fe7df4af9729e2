"""Model artifacts: save → load gives identical predictions; the folder is found by id or name."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from services.ai.core.models import MODEL_KINDS
from services.ai.core.registry import ModelRegistry
from services.ai.core.training import build_dataset, fit_final, plan_training
from shared.errors import InvalidInputError, NotFoundError
from shared.ml.artifacts import (
    META_FILE,
    ArtifactMeta,
    complete_rows,
    find_model_dir,
    load_model,
    model_inputs,
    predict_output,
)
from shared.ml.features import build_features
from tests.ai.support import FAST_HYPERPARAMETERS, RecordingReporter, planted_bars, train, train_spec

ONE_EPOCH = {"mlp": {"epochs": 1}, "lstm": {"epochs": 1}}


@pytest.mark.parametrize("model_type", sorted(MODEL_KINDS))
def test_artifact_save_load_predictions_identical(tmp_path: Path, model_type: str) -> None:
    hyper = {**FAST_HYPERPARAMETERS[model_type], **ONE_EPOCH.get(model_type, {})}
    plan = plan_training(train_spec(model_type, hyperparameters=hyper))
    data = build_dataset(plan, planted_bars(), min_fold_samples=30)
    model = fit_final(plan, data, RecordingReporter())
    meta = ArtifactMeta(
        id="m1",
        name="m",
        version=1,
        model_type=model_type,
        framework=plan.kind.framework,
        task=plan.task,
        features=plan.spec.features,
        feature_columns=plan.columns,
        classes=data.classes,
        sequence_length=plan.sequence_length,
    )
    plan.kind.save(model, tmp_path)
    (tmp_path / META_FILE).write_text(meta.model_dump_json())

    bars = planted_bars(300, seed=5)
    rows, loaded_out = load_model(tmp_path).predict_bars(bars)
    inputs = model_inputs(build_features(bars, plan.spec.features), rows, plan.sequence_length)
    np.testing.assert_array_equal(loaded_out, predict_output(plan.kind.framework, plan.task, model, inputs))
    assert rows[0] == meta.lookback and rows[-1] == 299


def test_loaded_model_too_few_bars_names_the_need(registry: ModelRegistry) -> None:
    record = train(registry, train_spec("logistic_regression"))
    model = load_model(registry.path(record["id"]))
    with pytest.raises(InvalidInputError) as exc:
        model.predict_bars(planted_bars(model.meta.lookback))
    assert exc.value.code == "too_few_bars" and exc.value.details["needed"] == model.meta.lookback + 1


def test_find_model_dir_by_id_name_and_latest(registry: ModelRegistry) -> None:
    first = train(registry, train_spec("logistic_regression", name="momentum"))
    second = train(registry, train_spec("logistic_regression", name="momentum", seed=1))
    root = registry.models_dir

    assert find_model_dir(root, model_id=first["id"]) == root / "momentum" / "1"
    assert find_model_dir(root, name="momentum") == root / "momentum" / "2"
    assert find_model_dir(root, name="momentum", version=1) == root / "momentum" / "1"
    assert second["version"] == 2
    for reference in ({"model_id": "nope"}, {"name": "momentum", "version": 3}, {"name": "other"}):
        with pytest.raises(NotFoundError) as exc:
            find_model_dir(root, **reference)
        assert exc.value.code == "unknown_model"


@pytest.mark.parametrize("rows_given", [0, 3])
def test_sequence_inputs_of_no_rows_are_empty_windows(rows_given: int) -> None:
    # Fewer rows than one window made sliding_window_view raise (a 500 on predict).
    matrix = np.ones((rows_given, 4))
    inputs = model_inputs(matrix, np.array([], dtype=np.int64), sequence_length=5)
    assert inputs.shape == (0, 5, 4) and inputs.dtype == np.float32
    assert not complete_rows(matrix, 5).any()
