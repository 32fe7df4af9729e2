"""The ml_signal strategy: trades a registered model's probabilities, with no look-ahead."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from services.ai.core.registry import ModelRegistry
from shared.config import CONFIG_ENV, load_config
from shared.errors import InvalidInputError, NotFoundError
from shared.ml.artifacts import MODELS_SUBDIR, load_model
from shared.trading import build_strategy
from shared.trading.ml_signal import MlSignal
from tests.ai.support import planted_bars, train, train_spec
from tests.support.platform import write_config

N = 400


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two models registered in the data folder of a temp platform config, which $MT5P_CONFIG names."""
    config = write_config(tmp_path_factory.mktemp("platform"))
    data_dir = load_config(config).data_dir
    registry = ModelRegistry(data_dir / "ai" / "models.sqlite", data_dir / MODELS_SUBDIR)
    direction = train(registry, train_spec("random_forest", name="momentum"))
    returns = train(registry, train_spec("random_forest", name="returns", label={"kind": "return"}))
    registry.close()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CONFIG_ENV, str(config))
        yield {"dir": str(data_dir / MODELS_SUBDIR), "direction": direction, "returns": returns}


def _strategy(models: dict[str, Any], **params: Any) -> MlSignal:
    strategy = build_strategy("ml_signal", params)
    assert isinstance(strategy, MlSignal)
    return strategy


def test_ml_signal_entries_follow_model_probabilities(models: dict[str, Any]) -> None:
    strategy = _strategy(models, model_id=models["direction"]["id"], min_probability=0.6)
    bars = planted_bars(N, seed=21)

    signals = strategy.signals(bars)

    rows, proba = load_model(Path(models["dir"]) / "momentum" / "1").predict_bars(bars)
    p_down, p_up = proba[:, 0], proba[:, 1]
    np.testing.assert_array_equal(signals.entry_long[rows], p_up >= 0.6)
    np.testing.assert_array_equal(signals.entry_short[rows], p_down >= 0.6)
    np.testing.assert_array_equal(signals.exit_long[rows], p_up < 0.6)
    assert signals.entry_long.any() and signals.entry_short.any()
    assert not (signals.entry_long | signals.exit_long)[: strategy.warmup - 1].any()


def test_ml_signal_later_bars_changed_signals_up_to_bar_unchanged(models: dict[str, Any]) -> None:
    strategy = _strategy(models, model_name="momentum")
    bars = planted_bars(N, seed=22)
    full = strategy.signals(bars)
    for cut in (strategy.warmup + 3, N // 2, N - 2):
        changed = {k: v.copy() for k, v in bars.items()}
        for name in ("open", "high", "low", "close"):
            changed[name][cut + 1 :] *= 1.3
        live = strategy.signals({k: v[: cut + 1] for k, v in bars.items()})
        later = strategy.signals(changed)
        for field in ("entry_long", "exit_long", "entry_short", "exit_short"):
            np.testing.assert_array_equal(getattr(later, field)[: cut + 1], getattr(full, field)[: cut + 1])
            np.testing.assert_array_equal(getattr(live, field), getattr(full, field)[: cut + 1])


def test_ml_signal_allow_short_false_never_enters_short(models: dict[str, Any]) -> None:
    signals = _strategy(models, model_name="momentum", model_version=1, allow_short=False).signals(
        planted_bars(N)
    )
    assert not signals.entry_short.any() and signals.entry_long.any()


def test_ml_signal_pickles_without_the_loaded_model(models: dict[str, Any]) -> None:
    strategy = _strategy(models, model_name="momentum")
    strategy.signals(planted_bars(50))

    copy = pickle.loads(pickle.dumps(strategy))

    assert copy._model is None
    np.testing.assert_array_equal(
        copy.signals(planted_bars(60)).entry_long, strategy.signals(planted_bars(60)).entry_long
    )


def test_ml_signal_unknown_model_not_found(models: dict[str, Any]) -> None:
    with pytest.raises(NotFoundError) as exc:
        _strategy(models, model_id="nope")
    assert exc.value.code == "unknown_model"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "model_id"),
        ({"model_id": "x", "model_name": "y"}, "model_id"),
        ({"model_id": "x", "model_version": 2}, "model_version"),
        # A request may not point the strategy at another folder: loading a model unpickles it.
        ({"model_name": "momentum", "models_dir": "/tmp"}, "models_dir"),
    ],
)
def test_ml_signal_bad_reference_names_the_field(models: dict[str, Any], params: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        _strategy(models, **params)
    assert exc.value.code == "invalid_params" and exc.value.details["errors"][0]["field"] == field


def test_ml_signal_regression_model_refused(models: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError) as exc:
        _strategy(models, model_id=models["returns"]["id"])
    assert exc.value.details["errors"][0]["field"] == "model_id"


def test_ml_signal_default_models_dir_from_platform_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    data_dir = load_config(config).data_dir
    registry = ModelRegistry(data_dir / "ai" / "models.sqlite", data_dir / MODELS_SUBDIR)
    record = train(registry, train_spec("logistic_regression", name="configured"))
    registry.close()
    monkeypatch.setenv(CONFIG_ENV, str(config))

    strategy = build_strategy("ml_signal", {"model_id": record["id"]})

    assert strategy.signals(planted_bars(100)).entry_long.any()
