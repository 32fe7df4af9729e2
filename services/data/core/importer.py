"""Importing an MT5 history export into the stores: validate the whole file first, then write.

Validation happens before the first write, so a bad file writes nothing. Bars are written in one
transaction; ticks in one transaction per partition, oldest first (partition files cannot share one).
Times are stored in UTC: the file's server time is shifted by a fixed offset or by the offsets "auto"
measures week by week in a first, light pass over the file's times (see server_time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import numpy as np

from services.data.core.mt5_csv import CsvKind, TimeWindow, ToUtc, parse_mt5_csv, scan_times
from services.data.core.server_time import ServerTimeOffset, WeeklyOffsets, measure_weeks, offset_runs
from services.data.core.stores import DataStores
from services.data.settings import ImportSection
from shared.errors import InvalidInputError
from shared.event_catalog import IMPORT_PROGRESS
from shared.event_payloads import ImportProgress
from shared.events import EventBus
from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.timeframes import Timeframe, get_timeframe

_PROGRESS_INTERVAL_S = 0.25


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import stored: kind, rows in the file, rows new to the store (`inserted`), stored rows
    overwritten (`replaced`, bars only), stored ticks kept as they were (`already_stored`), bytes read,
    and the server-time offsets applied as runs {from, to, offset_s} (UTC epoch s)."""

    kind: CsvKind
    rows: int
    inserted: int
    replaced: int
    already_stored: int
    bytes_read: int
    offsets: list[dict[str, int]]

    @property
    def written(self) -> int:
        """Rows the store took: new ones plus replaced bars."""
        return self.inserted + self.replaced


def import_mt5_csv(
    stores: DataStores,
    symbol: str,
    stream: IO[bytes],
    *,
    timeframe: str | None = None,
    window: TimeWindow | None = None,
    server_time: ServerTimeOffset = 0,
    calendar: WeeklyCalendar = FX_CALENDAR,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Parse and validate an MT5 export, then store it in UTC (bars need `timeframe`, times must be in
    `window` once in UTC); `stream` must be seekable when `server_time` is "auto"."""
    tf = get_timeframe(timeframe) if timeframe is not None else None
    to_utc: ToUtc | None = None
    runs: list[dict[str, int]] | None = None
    if server_time == "auto":
        kind, times = scan_times(stream)
        weeks = measure_weeks(times, _row_end(kind, tf), calendar)
        stream.seek(0)
        to_utc, runs = WeeklyOffsets(weeks).to_utc_ms, offset_runs(weeks)
    elif server_time != 0:
        to_utc = _shifted_by(server_time)
    parsed = parse_mt5_csv(stream, timeframe=tf, window=window, to_utc=to_utc, progress=progress)
    if runs is None:
        runs = _constant_run(parsed.data, server_time if server_time != "auto" else 0)
    if parsed.kind == "bars":
        if tf is None:
            raise InvalidInputError("a bar file needs a timeframe", details={"field": "timeframe"})
        replaced = _stored_bars_among(stores, symbol, tf, parsed.data)
        stores.bars.upsert(symbol, tf.name, parsed.data, "import")
        inserted, already = len(parsed.data) - replaced, 0
    else:
        replaced, inserted = 0, stores.ticks.insert_batch(symbol, parsed.data)
        already = len(parsed.data) - inserted
    return ImportResult(parsed.kind, len(parsed.data), inserted, replaced, already, parsed.bytes_read, runs)


def _row_end(kind: CsvKind, tf: Timeframe | None) -> Callable[[int], int]:
    """Where a row starting at `t` ends: a bar at its close (MN1 follows the month), a tick at once."""
    if kind == "bars" and tf is not None:
        return tf.next_open
    return lambda t: t + 1  # a tick stamped t.xxx ends before t + 1


def _shifted_by(offset_s: int) -> ToUtc:
    offset_ms = offset_s * 1000

    def to_utc(server_ms: int) -> int:
        return server_ms - offset_ms

    return to_utc


def _constant_run(data: np.ndarray, offset_s: int) -> list[dict[str, int]]:
    if len(data) == 0:
        return []
    times = data["time"]
    return [{"from": int(times[0]), "to": int(times[-1]), "offset_s": offset_s}]


def _stored_bars_among(stores: DataStores, symbol: str, tf: Timeframe, bars: np.ndarray) -> int:
    """How many of `bars` are already stored (and will be replaced)."""
    if len(bars) == 0 or tf.name not in stores.bars.stored_timeframes:
        return 0
    stored = stores.bars.read(symbol, tf.name, int(bars["time"][0]), int(bars["time"][-1]) + 1)
    return int(np.isin(bars["time"], stored["time"]).sum())


def import_window(section: ImportSection, now_ms: int) -> TimeWindow:
    """The times an import accepts: from Jan 1 of `earliest_year` to `future_margin_s` past now."""
    earliest = datetime(section.earliest_year, 1, 1, tzinfo=UTC)
    return TimeWindow(int(earliest.timestamp()) * 1000, now_ms + section.future_margin_s * 1000)


def import_upload(
    stores: DataStores,
    bus: EventBus,
    symbol: str,
    timeframe: str | None,
    window: TimeWindow,
    server_time: ServerTimeOffset,
    stream: IO[bytes],
    size: int,
) -> dict[str, Any]:
    """Import an uploaded file (blocking; run it in a thread): `import.progress` events as bytes are read,
    then the answer of `POST /import` minus symbol and timeframe."""
    last = [0.0]

    def progress(bytes_read: int) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_INTERVAL_S or bytes_read == size:
            last[0] = now
            percent = round(100.0 * bytes_read / size, 1)
            bus.publish_threadsafe(
                IMPORT_PROGRESS,
                ImportProgress(symbol=symbol, bytes_read=bytes_read, total_bytes=size, percent=percent),
            )

    result = import_mt5_csv(
        stores, symbol, stream, timeframe=timeframe, window=window, server_time=server_time, progress=progress
    )
    return {
        "kind": result.kind,
        "rows": result.rows,
        "written": result.written,
        "inserted": result.inserted,
        "replaced": result.replaced,
        "already_stored": result.already_stored,
        "bytes_read": result.bytes_read,
        "server_time": {"setting": server_time, "offsets": result.offsets},
    }
