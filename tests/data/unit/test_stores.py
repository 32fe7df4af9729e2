"""open_stores: files under a directory or one database URL, and the statistics over both."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.data.core.stores import open_stores
from shared.market.bars import ticks_to_bars
from shared.market.timeframes import TIMEFRAMES
from tests.data.unit.factories import POINT, make_ticks


@pytest.mark.parametrize("use_url", [False, True])
def test_statistics_report_rows_times_and_size(tmp_path: Path, use_url: bool) -> None:
    url = f"sqlite:///{tmp_path / 'all.sqlite'}" if use_url else None
    stores = open_stores(tmp_path / "data", database_url=url)
    ticks = make_ticks(1_000, max_step_ms=5_000)
    stores.ticks.insert_batch("EURUSD", ticks)
    stores.bars.upsert("EURUSD", "M1", ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT), "ticks")
    stats = stores.statistics()
    assert stats["ticks"] == [
        {
            "symbol": "EURUSD",
            "rows": 1_000,
            "first_msc": int(ticks["time_msc"][0]),
            "last_msc": int(ticks["time_msc"][-1]),
            "partitions": 1,
        }
    ]
    m1 = ticks_to_bars(ticks, TIMEFRAMES["M1"], POINT)
    assert stats["bars"] == [
        {
            "symbol": "EURUSD",
            "timeframe": "M1",
            "rows": len(m1),
            "first_time": int(m1["time"][0]),
            "last_time": int(m1["time"][-1]),
        }
    ]
    assert stats["size_bytes"] > 0
    stores.close()
