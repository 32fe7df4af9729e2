"""Training a model: validate the request (`plan_training`), build features and labels (`build_dataset`),
evaluate walk-forward, fit the final model on all samples, and register it.

Everything a request can get wrong is found by `plan_training` and `build_dataset`, which the HTTP layer
runs before it submits the job, so a refused request persists nothing. The same functions run again in
the job process on the same bars.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from services.ai.core.evaluation import (
    classification_metrics,
    positions_from_classes,
    positions_from_returns,
    regression_metrics,
    trading_evaluation,
    walk_forward_folds,
)
from services.ai.core.labels import DirectionLabel, LabelSpec, class_names, make_labels
from services.ai.core.models import ModelKind, ModelTypeName, model_kind, validate_hyperparameters
from services.ai.core.models.hyperparams import Hyperparameters
from services.ai.core.registry import ModelRegistry
from shared.errors import InvalidInputError
from shared.ml.artifacts import Task, complete_rows, model_inputs, predict_output
from shared.ml.features import FeatureSpec, build_features, dump_features, feature_columns, features_lookback

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


class Reporter(Protocol):
    """Where training reports progress and learns it was cancelled (shared.jobs.JobContext is one)."""

    def progress(self, fraction: float, message: str = "", **extra: Any) -> None: ...

    def check_cancelled(self) -> None: ...


class CostSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    spread_price: float | None = Field(
        default=None, ge=0, description="spread in price units; default: the bars' spread * point"
    )
    point: float | None = Field(default=None, gt=0, description="default: the configured symbol's point")


class TrainSpec(BaseModel):
    """What to train, independent of where the bars come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME_PATTERN, description="models of one name get versions 1, 2, …")
    model_type: ModelTypeName
    features: list[FeatureSpec] = Field(min_length=1, max_length=64)
    label: LabelSpec = DirectionLabel()
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    folds: int = Field(default=5, ge=2, le=20, description="walk-forward test folds")
    embargo_bars: int | None = Field(
        default=None, ge=0, description="gap between training and test samples; at least label.horizon"
    )
    costs: CostSpec = CostSpec()


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated training request."""

    spec: TrainSpec
    kind: ModelKind
    params: Hyperparameters
    task: Task
    sequence_length: int
    embargo: int
    columns: list[str]

    @property
    def lookback(self) -> int:
        return features_lookback(self.spec.features) + self.sequence_length - 1


@dataclass(frozen=True, slots=True)
class Dataset:
    """Features and targets of the usable samples (bars with complete inputs and a known label)."""

    matrix: np.ndarray
    sample_bars: np.ndarray
    targets: np.ndarray  # class indices (classification) or returns
    classes: list[str]


def plan_training(spec: TrainSpec) -> Plan:
    """Check the model type, hyperparameters, features and embargo; InvalidInputError naming the field."""
    kind = model_kind(spec.model_type)
    task: Task = "classification" if isinstance(spec.label, DirectionLabel) else "regression"
    params = validate_hyperparameters(kind, task, spec.hyperparameters)
    try:
        columns = feature_columns(spec.features)
    except ValueError as exc:
        raise InvalidInputError(
            f"features: {exc}", code="invalid_features", details={"field": "features"}
        ) from None
    embargo = spec.label.horizon if spec.embargo_bars is None else spec.embargo_bars
    if embargo < spec.label.horizon:
        raise InvalidInputError(
            f"embargo_bars ({embargo}) must be at least label.horizon ({spec.label.horizon})",
            code="invalid_embargo",
            details={"field": "embargo_bars"},
        )
    return Plan(spec, kind, params, task, kind.sequence_length(params), embargo, columns)


def build_dataset(plan: Plan, bars: Mapping[str, np.ndarray], *, min_fold_samples: int) -> Dataset:
    """Features, labels and samples; refuses too few bars and labels of a single class."""
    n = len(bars["time"])
    folds = plan.spec.folds
    needed_samples = (folds + 1) * (min_fold_samples + plan.embargo)
    needed_bars = plan.lookback + plan.spec.label.horizon + needed_samples
    if n < needed_bars:
        raise InvalidInputError(
            f"{n} bars are too few: {plan.spec.model_type} with these features, label horizon and {folds} "
            f"folds needs at least {needed_bars}",
            code="too_few_bars",
            details={"bars": n, "needed": needed_bars},
        )
    matrix = build_features(bars, plan.spec.features)
    labels = make_labels(np.asarray(bars["close"], dtype=np.float64), plan.spec.label)
    usable = complete_rows(matrix, plan.sequence_length) & np.isfinite(labels)
    sample_bars = np.flatnonzero(usable)
    if len(sample_bars) < needed_samples:
        raise InvalidInputError(
            f"only {len(sample_bars)} bars have complete features and a label; {needed_samples} are needed",
            code="too_few_bars",
            details={"samples": len(sample_bars), "needed": needed_samples},
        )
    values = labels[sample_bars]
    if plan.task == "regression":
        return Dataset(matrix, sample_bars, values, [])
    classes = class_names(values)
    if len(classes) < 2:
        raise InvalidInputError(
            f"every label is {classes[0]!r}; lower label.threshold or use more bars",
            code="single_class",
            details={"field": "label.threshold", "classes": classes},
        )
    codes = np.unique(values)
    return Dataset(matrix, sample_bars, np.searchsorted(codes, values), classes)


def spread_prices(
    bars: Mapping[str, np.ndarray], costs: CostSpec, point: float | None, default_spread_price: float
) -> tuple[np.ndarray, str]:
    """Per-bar spread in price units, and where it came from."""
    n = len(bars["time"])
    if costs.spread_price is not None:
        return np.full(n, costs.spread_price), "request"
    point = costs.point or point
    if "spread" in bars and point is not None:
        return np.asarray(bars["spread"], dtype=np.float64) * point, f"bars x point {point:g}"
    return np.full(n, default_spread_price), "setting ai.default_spread_price"


class _Trainer:
    """One training run's fitting and predicting, reporting progress in units of folds and epochs."""

    def __init__(self, plan: Plan, data: Dataset, reporter: Reporter) -> None:
        self.plan, self.data, self.reporter = plan, data, reporter
        self.units = plan.spec.folds + 1  # the folds, then the final fit

    def fit(self, positions: np.ndarray, unit: int, stage: dict[str, Any]) -> Any:
        plan, data = self.plan, self.data
        targets = data.targets[positions]

        def on_epoch(done: int, epochs: int) -> None:
            self.reporter.check_cancelled()
            self.reporter.progress(
                (unit + done / epochs) / self.units,
                f"{stage['stage']}: epoch {done}/{epochs}",
                epoch=done,
                epochs=epochs,
                **stage,
            )

        inputs = model_inputs(data.matrix, data.sample_bars[positions], plan.sequence_length)
        return plan.kind.fit(
            plan.params,
            plan.task,
            inputs,
            targets,
            classes=len(data.classes),
            seed=plan.spec.seed,
            on_epoch=on_epoch,
        )

    def predict(self, model: Any, positions: np.ndarray) -> np.ndarray:
        plan, data = self.plan, self.data
        inputs = model_inputs(data.matrix, data.sample_bars[positions], plan.sequence_length)
        out = predict_output(plan.kind.framework, plan.task, model, inputs)
        if plan.task == "classification" and plan.kind.framework == "sklearn":
            # A fold's training set may lack a class; put each column where its class belongs.
            full = np.zeros((len(positions), len(data.classes)))
            full[:, model.classes_] = out
            out = full
        return out


def _constant_model_output(plan: Plan, data: Dataset, train: np.ndarray, n: int) -> np.ndarray | None:
    """One-hot output of the only class when a fold's training set has a single class (no classifier fits)."""
    if plan.task != "classification":
        return None
    present = np.unique(data.targets[train])
    if len(present) > 1:
        return None
    out = np.zeros((n, len(data.classes)))
    out[:, int(present[0])] = 1.0
    return out


def evaluate(
    plan: Plan, data: Dataset, close: np.ndarray, spread_price: np.ndarray, reporter: Reporter
) -> dict[str, Any]:
    """Walk-forward metrics, per fold and over all out-of-sample predictions, with the trading evaluation."""
    trainer = _Trainer(plan, data, reporter)
    folds = walk_forward_folds(data.sample_bars, plan.spec.folds, plan.embargo)
    outputs, baselines, per_fold = [], [], []
    for fold in folds:
        reporter.check_cancelled()
        stage = {"stage": f"fold {fold.number}/{len(folds)}", "fold": fold.number, "folds": len(folds)}
        output = _constant_model_output(plan, data, fold.train, len(fold.test))
        if output is None:
            output = trainer.predict(trainer.fit(fold.train, fold.number - 1, stage), fold.test)
        baseline = _baseline(plan, data, fold.train, len(fold.test))
        outputs.append(output)
        baselines.append(baseline)
        per_fold.append(_fold_summary(plan, data, fold, output, baseline))
        reporter.progress(fold.number / trainer.units, f"{stage['stage']} evaluated", **stage)
    test = np.concatenate([fold.test for fold in folds])
    output, baseline = np.concatenate(outputs), np.concatenate(baselines)
    targets, bars = data.targets[test], data.sample_bars[test]
    if plan.task == "classification":
        metrics = classification_metrics(targets, output)
        metrics["baseline_accuracy"] = float(np.mean(baseline == targets))
        positions = positions_from_classes(output.argmax(axis=1), data.classes)
        baseline_positions = positions_from_classes(baseline.astype(int), data.classes)
    else:
        metrics = regression_metrics(targets, output)
        threshold = plan.spec.label.threshold
        positions = positions_from_returns(output, threshold)
        baseline_positions = positions_from_returns(baseline, threshold)
    return {
        "out_of_sample": metrics,
        "trading": trading_evaluation(close, spread_price, bars, positions, baseline_positions),
        "folds": per_fold,
        "test_samples": len(test),
    }


def _baseline(plan: Plan, data: Dataset, train: np.ndarray, n: int) -> np.ndarray:
    """Majority class of the fold's training set (classification) or its mean return (regression)."""
    targets = data.targets[train]
    if plan.task == "classification":
        return np.full(n, np.bincount(targets.astype(int), minlength=len(data.classes)).argmax())
    return np.full(n, float(np.mean(targets)))


def _fold_summary(
    plan: Plan, data: Dataset, fold: Any, output: np.ndarray, baseline: np.ndarray
) -> dict[str, Any]:
    targets = data.targets[fold.test]
    summary: dict[str, Any] = {
        "fold": fold.number,
        "train_samples": len(fold.train),
        "test_samples": len(fold.test),
        "test_first_bar": int(data.sample_bars[fold.test[0]]),
        "test_last_bar": int(data.sample_bars[fold.test[-1]]),
    }
    if plan.task == "classification":
        summary["accuracy"] = float(np.mean(output.argmax(axis=1) == targets))
        summary["baseline_accuracy"] = float(np.mean(baseline == targets))
    else:
        summary["mse"] = float(np.mean((output - targets) ** 2))
    return summary


def fit_final(plan: Plan, data: Dataset, reporter: Reporter) -> Any:
    """The model fitted on every sample, after evaluation."""
    reporter.check_cancelled()
    trainer = _Trainer(plan, data, reporter)
    all_samples = np.arange(len(data.sample_bars))
    return trainer.fit(all_samples, plan.spec.folds, {"stage": "final fit"})


def headline(plan: Plan, evaluation: dict[str, Any]) -> dict[str, Any]:
    """The few figures shown in model listings."""
    oos = evaluation["out_of_sample"]
    keys = ("accuracy", "baseline_accuracy", "roc_auc") if plan.task == "classification" else ("mse", "r2")
    return {
        **{k: oos[k] for k in keys},
        "trading_return": evaluation["trading"]["model"]["total_return"],
        "baseline_return": evaluation["trading"]["majority_baseline"]["total_return"],
    }


def train_and_register(
    plan: Plan,
    bars: Mapping[str, np.ndarray],
    *,
    registry: ModelRegistry,
    reporter: Reporter,
    min_fold_samples: int,
    spread_price: np.ndarray,
    spread_source: str,
    source: dict[str, Any],
) -> dict[str, Any]:
    """Evaluate, fit the final model, save it to staging and register it in one step; returns its record."""
    data = build_dataset(plan, bars, min_fold_samples=min_fold_samples)
    close = np.asarray(bars["close"], dtype=np.float64)
    evaluation = evaluate(plan, data, close, spread_price, reporter)
    evaluation["costs"] = {"spread_source": spread_source, "mean_spread_price": float(np.mean(spread_price))}
    model = fit_final(plan, data, reporter)
    times = np.asarray(bars["time"], dtype=np.int64)
    spec = plan.spec
    meta = {
        "name": spec.name,
        "model_type": spec.model_type,
        "framework": plan.kind.framework,
        "task": plan.task,
        "features": dump_features(spec.features),
        "feature_columns": plan.columns,
        "classes": data.classes,
        "sequence_length": plan.sequence_length,
    }
    record = {
        **source,
        "label": spec.label.model_dump(),
        "hyperparameters": plan.params.model_dump(),
        "seed": spec.seed,
        "folds": spec.folds,
        "embargo_bars": plan.embargo,
        "training": {
            "from": int(times[0]),
            "to": int(times[-1]),
            "bars": len(times),
            "samples": len(data.sample_bars),
            "first_sample_time": int(times[data.sample_bars[0]]),
        },
        "metrics": evaluation,
        "headline": headline(plan, evaluation),
    }
    staging = registry.new_staging()
    try:
        plan.kind.save(model, staging)
        return registry.register(staging, meta, record)
    finally:
        if staging.exists():  # registration moved it into place on success
            shutil.rmtree(staging, ignore_errors=True)
