"""A strategy database written by an earlier version opens, and its instances read back the same."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from services.strategy.core.config import RiskConfig
from services.strategy.core.store import InstanceStore
from shared.db import sqlite_engine
from shared.trading.sizing import SizingConfig, SizingMode
from tests.strategy.unit.conftest import MAGIC_BASE, Clock


def test_instances_stored_with_integer_sizing_modes_read_back_by_name(tmp_path: Path) -> None:
    path = tmp_path / "strategy.db"
    old = InstanceStore(sqlite_engine(path), magic_base=MAGIC_BASE, now_ms=Clock())
    ids = [
        old.create(
            strategy="sma_crossover",
            params={},
            symbol="EURUSD",
            timeframe="M15",
            sizing=SizingConfig(mode=mode, value=0.5),
            risk=RiskConfig(),
        ).id
        for mode in (SizingMode.FIXED, SizingMode.RISK_PERCENT)
    ]
    old.close()
    with sqlite_engine(path).begin() as conn:  # as the version before named modes wrote them
        conn.execute(
            text(
                "UPDATE strategy_instances SET sizing = "
                "json_object('mode', CASE WHEN id = :a THEN 0 ELSE 2 END, 'value', 0.5)"
            ),
            {"a": ids[0]},
        )

    reopened = InstanceStore(sqlite_engine(path), magic_base=MAGIC_BASE, now_ms=Clock())
    sizings = {r.id: r.sizing for r in reopened.instances()}

    assert sizings == {
        ids[0]: SizingConfig(mode=SizingMode.FIXED, value=0.5),
        ids[1]: SizingConfig(mode=SizingMode.RISK_PERCENT, value=0.5),
    }
