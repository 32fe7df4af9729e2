"""Validated hyperparameters per model type; unknown keys are refused, so a typo never goes unnoticed."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Hyperparameters(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogisticRegressionParams(Hyperparameters):
    C: float = Field(default=1.0, gt=0, le=1e6, description="inverse regularisation strength")
    max_iter: int = Field(default=1000, ge=10, le=100_000)
    class_weight: Literal["balanced"] | None = None


class RandomForestParams(Hyperparameters):
    n_estimators: int = Field(default=100, ge=1, le=5000)
    max_depth: int | None = Field(default=8, ge=1, le=100)
    min_samples_leaf: int = Field(default=5, ge=1, le=100_000)
    max_features: Literal["sqrt", "log2"] | Annotated[float, Field(gt=0, le=1)] | None = "sqrt"
    class_weight: Literal["balanced", "balanced_subsample"] | None = None
    n_jobs: int = Field(default=1, ge=1, le=64, description="trees built in parallel; results do not change")


class HistGradientBoostingParams(Hyperparameters):
    learning_rate: float = Field(default=0.1, gt=0, le=1)
    max_iter: int = Field(default=100, ge=1, le=10_000, description="boosting rounds")
    max_depth: int | None = Field(default=None, ge=1, le=100)
    max_leaf_nodes: int = Field(default=31, ge=2, le=10_000)
    min_samples_leaf: int = Field(default=20, ge=1, le=100_000)
    l2_regularization: float = Field(default=0.0, ge=0, le=1e6)
    class_weight: Literal["balanced"] | None = None


class KerasParams(Hyperparameters):
    epochs: int = Field(default=20, ge=1, le=10_000)
    batch_size: int = Field(default=64, ge=1, le=65_536)
    learning_rate: float = Field(default=1e-3, gt=0, le=1, description="Adam step size")
    dropout: float = Field(default=0.0, ge=0, lt=1)


class MlpParams(KerasParams):
    hidden_units: list[Annotated[int, Field(ge=1, le=4096)]] = Field(
        default_factory=lambda: [64, 32], min_length=1, max_length=8, description="units per hidden layer"
    )


class LstmParams(KerasParams):
    sequence_length: int = Field(default=16, ge=2, le=512, description="bars of features per input")
    units: int = Field(default=32, ge=1, le=1024, description="LSTM units")
    dense_units: int = Field(default=0, ge=0, le=4096, description="a dense layer after the LSTM; 0 = none")
