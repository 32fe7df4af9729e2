from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.ai.core.registry import ModelRegistry


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[ModelRegistry]:
    reg = ModelRegistry(tmp_path / "models.sqlite", tmp_path / "models")
    yield reg
    reg.close()
