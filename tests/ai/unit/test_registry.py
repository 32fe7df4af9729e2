"""The registry: versions per name, restarts, deletion, and no half-registered model after a crash."""

from __future__ import annotations

import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from services.ai.core.registry import ModelRegistry
from shared.errors import NotFoundError
from tests.ai.support import train, train_spec
from tests.support.waits import wait_until


def test_registry_versions_per_name_survive_reopen(tmp_path: Path, registry: ModelRegistry) -> None:
    a1 = train(registry, train_spec("logistic_regression", name="a"))
    b1 = train(registry, train_spec("logistic_regression", name="b"))
    a2 = train(registry, train_spec("logistic_regression", name="a"))
    registry.close()

    reopened = ModelRegistry(tmp_path / "models.sqlite", tmp_path / "models")

    assert (a1["version"], b1["version"], a2["version"]) == (1, 1, 2)
    assert [m["version"] for m in reopened.list("a")] == [2, 1]
    got = reopened.get(a2["id"])
    assert got["training"]["bars"] == 1500 and got["seed"] == 0 and got["label"]["kind"] == "direction"
    assert got["hyperparameters"]["C"] == 1.0 and got["feature_columns"][0] == "returns_1"
    assert reopened.recover() == []  # nothing to clean after orderly runs
    reopened.close()


def test_registry_delete_removes_row_and_folder(registry: ModelRegistry) -> None:
    record = train(registry, train_spec("logistic_regression"))
    folder = registry.path(record["id"])

    registry.delete(record["id"])

    assert not folder.exists() and registry.list() == []
    with pytest.raises(NotFoundError) as exc:
        registry.get(record["id"])
    assert exc.value.code == "unknown_model"


def test_registry_recover_removes_unregistered_folders(registry: ModelRegistry) -> None:
    kept = train(registry, train_spec("logistic_regression", name="kept"))
    orphan = registry.models_dir / "kept" / "2"
    orphan.mkdir()
    (orphan / "meta.json").write_text("{}")
    staging = registry.new_staging()

    removed = registry.recover()

    assert sorted(removed) == sorted([str(orphan), str(staging)])
    assert registry.path(kept["id"]).is_dir()


class _StallingRegistry(ModelRegistry):
    """Stops just before registering, with the artifacts written, until the test kills the process."""

    def register(self, staging: Path, meta: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        (staging.parent.parent.parent / "stalled").write_text(str(staging))
        multiprocessing.Event().wait()  # never set: the process is killed here
        raise AssertionError("unreachable")


def _train_until_killed(root: str) -> None:
    registry = _StallingRegistry(Path(root, "models.sqlite"), Path(root, "models"))
    train(registry, train_spec("random_forest"))


def test_training_killed_before_registration_leaves_registry_unchanged(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "models.sqlite", tmp_path / "models")
    before = train(registry, train_spec("logistic_regression", name="test-random_forest"))
    process = multiprocessing.get_context("spawn").Process(target=_train_until_killed, args=(str(tmp_path),))
    process.start()
    marker = tmp_path / "stalled"
    wait_until(marker.exists, 120, "the training process to reach registration")
    staging = Path(marker.read_text())
    assert any(staging.iterdir())  # the model was saved, only not registered

    os.kill(process.pid, signal.SIGKILL)
    process.join(10)

    assert [m["id"] for m in registry.list()] == [before["id"]]
    assert sorted(p.name for p in (registry.models_dir / "test-random_forest").iterdir()) == ["1"]
    assert registry.recover() == [str(staging)]
    assert not staging.exists()
    registry.close()
