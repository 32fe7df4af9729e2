"""ai service benchmark: training time per model type on 100,000 bars, and single-request prediction
latency through the HTTP API of a real service process.

Run: .venv/bin/python bench/ai.py [--bars 100000] [--requests 500]

1. Training (in-process, as the job runs it in its worker): the whole job — features, labels, a 3-fold
   walk-forward evaluation and the final fit on all samples — for each model type on the same seeded
   M1 series with a planted momentum pattern and ten feature columns. Default hyperparameters, except
   the Keras models, which run 3 epochs with batches of 256 (a benchmark, not a tuned model).
2. Prediction: a random forest and an LSTM (trained on 20,000 bars) are registered in a temp data
   folder; `python -m services.ai` is started on it (start-up time until /health answers is printed),
   and `POST /models/{id}/predict` is sent with 200 inline bars (a live strategy's window), one request
   at a time over loopback with httpx. p50 and p99 of the round trip; the first request of each model
   (which loads it, and for the LSTM imports TensorFlow) is reported separately.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from service_process import service_process

from services.ai.core.registry import ModelRegistry
from services.ai.core.training import TrainSpec, plan_training, spread_prices, train_and_register
from shared.config import PROJECT_ROOT
from shared.ml.artifacts import MODELS_SUBDIR

FEATURES = [
    {"name": "returns", "window": 1},
    {"name": "returns", "window": 1, "lag": 1},
    {"name": "returns", "window": 5},
    {"name": "rsi", "period": 14},
    {"name": "macd"},
    {"name": "atr", "period": 14},
    {"name": "bollinger_width", "period": 20},
    {"name": "volatility", "window": 20},
]
KERAS_BENCH = {"epochs": 3, "batch_size": 256}
MODEL_TYPES = ("logistic_regression", "random_forest", "hist_gradient_boosting", "mlp", "lstm")
PREDICT_BARS = 200


class Quiet:
    """A reporter that drops progress (the job's context does the same work through a queue)."""

    def progress(self, fraction: float, message: str = "", **extra: Any) -> None:
        pass

    def check_cancelled(self) -> None:
        pass


def make_bars(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """Seeded M1 bars whose returns keep their sign with probability ~70% (learnable, not trivial)."""
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0, 2e-4, n)
    returns = np.empty(n)
    returns[0] = shocks[0]
    for t in range(1, n):
        returns[t] = 1e-4 * np.sign(returns[t - 1]) + shocks[t]
    close = 1.1 * np.exp(np.cumsum(returns))
    open_ = np.r_[1.1, close[:-1]]
    wick = np.abs(rng.normal(0.0, 1e-4, n)) * close
    return {
        "time": 1_704_067_200 + 60 * np.arange(n, dtype=np.int64),
        "open": open_,
        "high": np.maximum(open_, close) + wick,
        "low": np.minimum(open_, close) - wick,
        "close": close,
        "tick_volume": rng.integers(1, 300, n).astype(np.float64),
        "spread": np.full(n, 8.0),
    }


def train(registry: ModelRegistry, model_type: str, bars: dict[str, np.ndarray], name: str) -> dict[str, Any]:
    hyper = KERAS_BENCH if model_type in ("mlp", "lstm") else {}
    spec = TrainSpec.model_validate(
        {"name": name, "model_type": model_type, "features": FEATURES, "hyperparameters": hyper, "folds": 3}
    )
    plan = plan_training(spec)
    spread, source = spread_prices(bars, spec.costs, 1e-5, 0.0)
    return train_and_register(
        plan,
        bars,
        registry=registry,
        reporter=Quiet(),
        min_fold_samples=30,
        spread_price=spread,
        spread_source=source,
        source={"symbol": "EURUSD", "timeframe": "M1"},
    )


def bench_training(n_bars: int, directory: Path) -> None:
    bars = make_bars(n_bars)
    registry = ModelRegistry(directory / "train.sqlite", directory / "train-models")
    print(f"training on {n_bars:,} bars ({len(FEATURES)} feature specs, 3 folds + final fit):")
    for model_type in MODEL_TYPES:
        started = time.perf_counter()
        record = train(registry, model_type, bars, model_type)
        spent = time.perf_counter() - started
        oos = record["metrics"]["out_of_sample"]
        print(
            f"  {model_type:<24} {spent:8.1f} s   accuracy {oos['accuracy']:.3f} "
            f"(majority baseline {oos['baseline_accuracy']:.3f})"
        )
    registry.close()


def latency(client: httpx.Client, model_id: str, body: bytes, requests: int) -> tuple[float, float, float]:
    """(first request, p50, p99) in milliseconds."""
    headers = {"Content-Type": "application/json"}

    def once() -> float:
        start = time.perf_counter()
        response = client.post(f"/models/{model_id}/predict", content=body, headers=headers)
        spent = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(response.text)
        return spent * 1000

    first = once()
    for _ in range(20):
        once()
    timings = np.array([once() for _ in range(requests)])
    return first, float(np.percentile(timings, 50)), float(np.percentile(timings, 99))


def bench_prediction(directory: Path, requests: int) -> None:
    config = directory / "config.json"
    settings = json.loads((PROJECT_ROOT / "config.json").read_text())
    settings["system"]["data_dir"] = str(directory / "data")
    config.write_text(json.dumps(settings))
    data_dir = directory / "data"
    registry = ModelRegistry(data_dir / "ai" / "models.sqlite", data_dir / MODELS_SUBDIR)
    bars = make_bars(20_000, seed=2)
    ids = {
        model_type: train(registry, model_type, bars, f"bench-{model_type}")["id"]
        for model_type in ("random_forest", "lstm")
    }
    registry.close()
    window = make_bars(PREDICT_BARS, seed=3)
    body = orjson.dumps({"bars": window}, option=orjson.OPT_SERIALIZE_NUMPY)
    with service_process("ai", config) as (client, startup_s):
        print(f"service start-up (spawn until /health answers): {startup_s:.2f} s")
        print(
            f"prediction latency, POST /models/{{id}}/predict with {PREDICT_BARS} inline bars, {requests} requests:"
        )
        for model_type, model_id in ids.items():
            first, p50, p99 = latency(client, model_id, body, requests)
            print(
                f"  {model_type:<14} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   (first request {first:,.0f} ms)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bars", type=int, default=100_000, help="bars for the training benchmark")
    parser.add_argument("--requests", type=int, default=500, help="timed prediction requests per model")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bench_prediction(directory, args.requests)
        bench_training(args.bars, directory)


if __name__ == "__main__":
    main()
