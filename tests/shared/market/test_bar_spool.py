"""The bar spool: columns written to a real file, read back equal in a job, removed when done or at start."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shared.market.bar_spool import BarSpool, discard_bars, read_bars


def test_bar_spool_round_trips_columns_and_removes_the_file(tmp_path: Path) -> None:
    spool = BarSpool(tmp_path / "bars")
    columns = {"time": np.array([60, 120], dtype=np.int64), "close": np.array([1.5, 2.5])[::-1]}

    path = spool.write(columns)
    read = read_bars(path)

    assert list(read) == ["time", "close"]
    assert read["time"].dtype == np.int64
    np.testing.assert_array_equal(read["close"], [2.5, 1.5])
    discard_bars(path)
    discard_bars(path)  # a second removal (job ended after a cancel) is harmless
    assert not Path(path).exists()


def test_bar_spool_clear_removes_files_left_by_a_stopped_service(tmp_path: Path) -> None:
    folder = tmp_path / "bars"
    left = [BarSpool(folder).write({"time": np.array([60])}) for _ in range(2)]

    assert BarSpool(folder).clear() == 2
    assert not any(Path(path).exists() for path in left)
