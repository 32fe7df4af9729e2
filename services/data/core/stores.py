"""Opening the data service's storage: SQLite files under a data directory, or one DATABASE_URL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.data.core.bar_store import DEFAULT_TIMEFRAMES, BarStore
from services.data.core.partitions import Granularity
from services.data.core.tick_store import TickStore
from shared.db import engine_from_url


@dataclass(slots=True)
class DataStores:
    """The tick and bar stores of one service instance."""

    ticks: TickStore
    bars: BarStore
    shared_database: bool

    def size_bytes(self) -> int:
        """Bytes on disk of everything stored (one database counted once)."""
        return self.bars.size_bytes() + (0 if self.shared_database else self.ticks.size_bytes())

    def statistics(self) -> dict[str, Any]:
        """Rows and first/last times per symbol (ticks) and per symbol x timeframe (bars), and size."""
        ticks = []
        for symbol in self.ticks.symbols():
            parts = [p for p in self.ticks.partition_stats(symbol) if p.rows]
            ticks.append(
                {
                    "symbol": symbol,
                    "rows": sum(p.rows for p in parts),
                    "first_msc": min((p.first_msc for p in parts if p.first_msc is not None), default=None),
                    "last_msc": max((p.last_msc for p in parts if p.last_msc is not None), default=None),
                    "partitions": len(parts),
                }
            )
        bars = [s._asdict() for s in self.bars.statistics()]
        return {"ticks": ticks, "bars": bars, "size_bytes": self.size_bytes()}

    def close(self) -> None:
        """Release engines and files."""
        self.ticks.close()
        self.bars.engine.dispose()


def open_stores(
    data_dir: Path,
    *,
    database_url: str | None = None,
    granularity: Granularity = "month",
    timeframes: Sequence[str] = DEFAULT_TIMEFRAMES,
) -> DataStores:
    """SQLite files under `data_dir` (ticks/<symbol>/<key>.sqlite, catalog.sqlite), or `database_url`."""
    if database_url:
        engine = engine_from_url(database_url)
        return DataStores(TickStore.in_database(engine, granularity), BarStore(engine, timeframes), True)
    return DataStores(
        TickStore.in_directory(data_dir / "ticks", granularity),
        BarStore.in_directory(data_dir, timeframes),
        False,
    )
