"""Test support: bars with a planted, learnable pattern, fast hyperparameters, and a progress recorder.

In the planted bars each return keeps the sign of the previous one with probability ~84% (momentum), so
the next bar's direction is predictable from the last return while the classes stay balanced."""

from __future__ import annotations

from typing import Any

import numpy as np

from services.ai.core.registry import ModelRegistry
from services.ai.core.training import TrainSpec, plan_training, spread_prices, train_and_register
from shared.jobs import JobCancelled

START = 1_704_067_200  # 2024-01-01T00:00:00Z
POINT = 1e-5


def planted_bars(
    n: int = 1500, seed: int = 3, drift: float = 0.001, noise: float = 0.001
) -> dict[str, np.ndarray]:
    """Hourly bars whose return at t is drift * sign(return at t-1) + noise."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, noise, n)
    returns = np.empty(n)
    returns[0] = shocks[0]
    for t in range(1, n):
        returns[t] = drift * (1.0 if returns[t - 1] >= 0 else -1.0) + shocks[t]
    close = 1.1 * np.exp(np.cumsum(returns))
    open_ = np.r_[1.1, close[:-1]]
    wick = np.abs(rng.normal(0.0, noise / 2, n)) * close
    return {
        "time": START + 3600 * np.arange(n, dtype=np.int64),
        "open": open_,
        "high": np.maximum(open_, close) + wick,
        "low": np.minimum(open_, close) - wick,
        "close": close,
        "tick_volume": rng.integers(50, 500, n).astype(np.float64),
        "spread": np.full(n, 10.0),
    }


FEATURES: list[dict[str, Any]] = [
    {"name": "returns", "window": 1},
    {"name": "returns", "window": 1, "lag": 1},
    {"name": "rsi", "period": 14},
    {"name": "volatility", "window": 10},
]

# Small, fast settings per model type (the suite runs on two cores).
FAST_HYPERPARAMETERS: dict[str, dict[str, Any]] = {
    "logistic_regression": {},
    "random_forest": {"n_estimators": 30, "max_depth": 4},
    "hist_gradient_boosting": {"max_iter": 30},
    "mlp": {"hidden_units": [16], "epochs": 4, "batch_size": 32, "learning_rate": 0.01},
    "lstm": {"sequence_length": 4, "units": 8, "epochs": 4, "batch_size": 32, "learning_rate": 0.01},
}


class RecordingReporter:
    """Collects progress reports; cancels once `cancel_after` reports were made (None = never)."""

    def __init__(self, cancel_after: int | None = None) -> None:
        self.reports: list[tuple[float, str, dict[str, Any]]] = []
        self.cancel_after = cancel_after

    def progress(self, fraction: float, message: str = "", **extra: Any) -> None:
        self.reports.append((fraction, message, extra))

    def check_cancelled(self) -> None:
        if self.cancel_after is not None and len(self.reports) >= self.cancel_after:
            raise JobCancelled("test")


def train_spec(model_type: str, **overrides: Any) -> TrainSpec:
    """A small training request on the planted features (3 folds, fast hyperparameters)."""
    values: dict[str, Any] = {
        "name": f"test-{model_type}",
        "model_type": model_type,
        "features": FEATURES,
        "hyperparameters": FAST_HYPERPARAMETERS[model_type],
        "folds": 3,
        **overrides,
    }
    return TrainSpec.model_validate(values)


def train(
    registry: ModelRegistry,
    spec: TrainSpec,
    bars: dict[str, np.ndarray] | None = None,
    reporter: RecordingReporter | None = None,
) -> dict[str, Any]:
    """Train and register in this process, as the job does in a worker; returns the model's record."""
    bars = planted_bars() if bars is None else bars
    plan = plan_training(spec)
    spread, source = spread_prices(bars, spec.costs, POINT, 0.0)
    return train_and_register(
        plan,
        bars,
        registry=registry,
        reporter=reporter or RecordingReporter(),
        min_fold_samples=30,
        spread_price=spread,
        spread_source=source,
        source={"symbol": "EURUSD", "timeframe": "H1"},
    )
