"""Importing an MT5 history export into the stores: validate the whole file first, then write.

Validation happens before the first write, so a bad file writes nothing. Bars are written in one
transaction; ticks in one transaction per partition, oldest first (partition files cannot share one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

from services.data.core.mt5_csv import CsvKind, TimeWindow, parse_mt5_csv
from services.data.core.stores import DataStores
from services.data.settings import ImportSection
from shared.errors import InvalidInputError
from shared.market.timeframes import get_timeframe


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import stored: kind, rows in the file, rows new to the store, bytes read."""

    kind: CsvKind
    rows: int
    written: int
    bytes_read: int


def import_mt5_csv(
    stores: DataStores,
    symbol: str,
    stream: IO[bytes],
    *,
    timeframe: str | None = None,
    window: TimeWindow | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Parse and validate an MT5 export, then store it (bars need `timeframe`, times must be in `window`)."""
    tf = get_timeframe(timeframe) if timeframe is not None else None
    parsed = parse_mt5_csv(stream, timeframe=tf, window=window, progress=progress)
    if parsed.kind == "bars":
        if tf is None:
            raise InvalidInputError("a bar file needs a timeframe", details={"field": "timeframe"})
        written = stores.bars.upsert(symbol, tf.name, parsed.data, "import")
    else:
        written = stores.ticks.insert_batch(symbol, parsed.data)
    return ImportResult(parsed.kind, len(parsed.data), written, parsed.bytes_read)


def import_window(section: ImportSection, now_ms: int) -> TimeWindow:
    """The times an import accepts: from Jan 1 of `earliest_year` to `future_margin_s` past now."""
    earliest = datetime(section.earliest_year, 1, 1, tzinfo=UTC)
    return TimeWindow(int(earliest.timestamp()) * 1000, now_ms + section.future_margin_s * 1000)
