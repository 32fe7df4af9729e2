"""Training: every model type learns the planted pattern out of sample, reproducibly; bad requests are
refused before anything runs; a cancelled run registers nothing."""

from __future__ import annotations

import numpy as np
import pytest

from services.ai.core.evaluation import walk_forward_folds
from services.ai.core.labels import ReturnLabel
from services.ai.core.models import MODEL_KINDS
from services.ai.core.registry import ModelRegistry
from services.ai.core.training import build_dataset, plan_training
from shared.errors import InvalidInputError
from shared.jobs import JobCancelled
from shared.ml.artifacts import load_model
from tests.ai.support import RecordingReporter, planted_bars, train, train_spec


@pytest.mark.parametrize("model_type", sorted(MODEL_KINDS))
def test_train_every_model_type_beats_majority_baseline_out_of_sample(
    registry: ModelRegistry, model_type: str
) -> None:
    reporter = RecordingReporter()

    record = train(registry, train_spec(model_type), reporter=reporter)

    oos = record["metrics"]["out_of_sample"]
    trading = record["metrics"]["trading"]
    assert oos["accuracy"] > oos["baseline_accuracy"] + 0.15, oos
    assert oos["balanced_accuracy"] > 0.65 and oos["roc_auc"] > 0.7
    assert trading["model"]["total_return"] > trading["majority_baseline"]["total_return"]
    assert trading["model"]["total_return"] > trading["buy_and_hold"]["total_return"]
    assert [f["fold"] for f in record["metrics"]["folds"]] == [1, 2, 3]
    assert record["version"] == 1 and record["classes"] == ["down", "up"]
    assert any(extra.get("fold") == 3 for _, _, extra in reporter.reports)
    if MODEL_KINDS[model_type].framework == "keras":
        assert any("epoch" in extra for _, _, extra in reporter.reports)


@pytest.mark.parametrize("model_type", ["random_forest", "logistic_regression"])
def test_train_same_seed_and_data_same_metrics_and_predictions(tmp_path, model_type: str) -> None:
    first = ModelRegistry(tmp_path / "a.sqlite", tmp_path / "a")
    second = ModelRegistry(tmp_path / "b.sqlite", tmp_path / "b")
    spec = train_spec(model_type, seed=7)

    a, b = train(first, spec), train(second, spec)

    assert a["metrics"] == b["metrics"]
    bars = planted_bars(400, seed=99)
    rows_a, out_a = load_model(first.path(a["id"])).predict_bars(bars)
    rows_b, out_b = load_model(second.path(b["id"])).predict_bars(bars)
    np.testing.assert_array_equal(rows_a, rows_b)
    np.testing.assert_array_equal(out_a, out_b)


def test_train_keras_same_seed_same_metrics(tmp_path) -> None:
    spec = train_spec("mlp", seed=3, folds=2, hyperparameters={"hidden_units": [8], "epochs": 2})
    a = train(ModelRegistry(tmp_path / "a.sqlite", tmp_path / "a"), spec)
    b = train(ModelRegistry(tmp_path / "b.sqlite", tmp_path / "b"), spec)
    # Op determinism is on, so on one machine the runs agree exactly; the tolerance only documents that
    # other CPUs or TensorFlow builds may differ in the last bits.
    assert a["metrics"]["out_of_sample"] == pytest.approx(b["metrics"]["out_of_sample"], rel=1e-6)


def test_train_keras_cancel_checked_between_epochs(registry: ModelRegistry) -> None:
    reporter = RecordingReporter(cancel_after=2)
    spec = train_spec("mlp", hyperparameters={"hidden_units": [8], "epochs": 200})

    with pytest.raises(JobCancelled):
        train(registry, spec, reporter=reporter)

    assert [extra.get("epoch") for _, _, extra in reporter.reports] == [1, 2]
    assert registry.list() == []


def test_train_return_label_regression_predicts_direction(registry: ModelRegistry) -> None:
    record = train(registry, train_spec("random_forest", label={"kind": "return", "horizon": 1}))

    assert record["task"] == "regression" and record["classes"] == []
    assert record["metrics"]["out_of_sample"]["direction_accuracy"] > 0.7
    rows, out = load_model(registry.path(record["id"])).predict_bars(planted_bars(200))
    assert out.shape == rows.shape


def test_train_cancelled_after_first_fold_registers_nothing(registry: ModelRegistry) -> None:
    with pytest.raises(JobCancelled):
        train(registry, train_spec("random_forest"), reporter=RecordingReporter(cancel_after=1))

    assert registry.list() == []
    assert list((registry.models_dir / ".staging").iterdir()) == []


def test_walk_forward_folds_train_ends_an_embargo_before_each_test_block() -> None:
    sample_bars = np.arange(40, 1000)

    folds = walk_forward_folds(sample_bars, folds=4, embargo=5)

    assert np.array_equal(
        np.concatenate([f.test for f in folds]), np.arange(len(sample_bars))[len(folds[0].train) + 5 :]
    )
    for fold in folds:
        assert sample_bars[fold.train].max() == sample_bars[fold.test[0]] - 6
        assert fold.train[0] == 0  # expanding window


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"hyperparameters": {"n_estimators": 0}}, "invalid_hyperparameters", "hyperparameters.n_estimators"),
        ({"hyperparameters": {"n_trees": 10}}, "invalid_hyperparameters", "hyperparameters.n_trees"),
        (
            {"hyperparameters": {"class_weight": "balanced"}, "label": {"kind": "return"}},
            "invalid_hyperparameters",
            "hyperparameters.class_weight",
        ),
        (
            {"embargo_bars": 1, "label": {"kind": "direction", "horizon": 3}},
            "invalid_embargo",
            "embargo_bars",
        ),
        ({"features": [{"name": "rsi"}, {"name": "rsi", "period": 14}]}, "invalid_features", "features"),
    ],
)
def test_plan_training_bad_request_names_the_field(overrides: dict, code: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        plan_training(train_spec("random_forest", **overrides))
    assert exc.value.code == code and exc.value.details["field"] == field


def test_plan_training_classifier_with_return_label_refused() -> None:
    with pytest.raises(InvalidInputError) as exc:
        plan_training(train_spec("logistic_regression", label=ReturnLabel()))
    assert exc.value.code == "unsupported_label" and exc.value.details["field"] == "label.kind"


def test_build_dataset_too_few_bars_names_the_need() -> None:
    plan = plan_training(train_spec("random_forest"))
    with pytest.raises(InvalidInputError) as exc:
        build_dataset(plan, planted_bars(100), min_fold_samples=30)
    assert exc.value.code == "too_few_bars" and exc.value.details["needed"] > 100


def test_build_dataset_threshold_above_every_move_single_class_refused() -> None:
    plan = plan_training(train_spec("random_forest", label={"kind": "direction", "threshold": 0.5}))
    with pytest.raises(InvalidInputError) as exc:
        build_dataset(plan, planted_bars(), min_fold_samples=30)
    assert exc.value.code == "single_class" and exc.value.details["field"] == "label.threshold"
