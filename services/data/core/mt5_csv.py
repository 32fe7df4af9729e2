"""MetaTrader 5 history CSV: a streaming, validating parser and the matching exporter.

Bars: `<DATE> <TIME> <OPEN> <HIGH> <LOW> <CLOSE> <TICKVOL> <VOL> <SPREAD>`; ticks: `<DATE> <TIME> <BID>
<ASK> <LAST> <VOLUME> <FLAGS>`; tab- or comma-separated (taken from the header line), dates `2024.01.02`,
times `00:00`, `00:00:00` or `00:00:00.123`, UTF-8 or UTF-16 (by BOM). Blank BID/ASK/LAST cells in a tick
export mean "unchanged", as MT5 writes them. Parsing reads the whole file before returning, so a caller
writes only a fully validated file: the first bad line raises InvalidInputError naming it, the column
and the reason. Besides the format, a line must make sense: positive prices, bid <= ask, a time inside the
caller's window (an import from year 1 would pull collection back to it) and counts the stored columns hold.
"""

from __future__ import annotations

import codecs
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, BinaryIO, Literal

import numpy as np

from shared.errors import InvalidInputError
from shared.market.records import RATES_DTYPE, TICKS_DTYPE
from shared.market.timeframes import Timeframe

CsvKind = Literal["bars", "ticks"]
BAR_HEADER = ("<DATE>", "<TIME>", "<OPEN>", "<HIGH>", "<LOW>", "<CLOSE>", "<TICKVOL>", "<VOL>", "<SPREAD>")
TICK_HEADER = ("<DATE>", "<TIME>", "<BID>", "<ASK>", "<LAST>", "<VOLUME>", "<FLAGS>")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ROWS_PER_BLOCK = 100_000
# The largest count each column holds in every supported database (BIGINT and INTEGER are signed there,
# though the MT5 record types are unsigned), so a value passing the parser is stored as it is.
_INT64_MAX = 2**63 - 1
_INT32_MAX = 2**31 - 1
COUNT_LIMITS = {
    "<TICKVOL>": _INT64_MAX,
    "<VOL>": _INT64_MAX,
    "<SPREAD>": _INT32_MAX,
    "<VOLUME>": _INT64_MAX,
    "<FLAGS>": _INT32_MAX,
}


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The times a line may carry, [from_ms, to_ms], in epoch milliseconds."""

    from_ms: int
    to_ms: int


@dataclass(frozen=True, slots=True)
class ParsedCsv:
    """A validated file: its kind, the records (RATES_DTYPE or TICKS_DTYPE) and its size."""

    kind: CsvKind
    data: np.ndarray
    lines: int
    bytes_read: int


class _BadLine(Exception):
    """A reason why one line is invalid (and the column, when one is to blame); turned into
    InvalidInputError with the line number."""

    def __init__(self, reason: str, column: str | None = None) -> None:
        super().__init__(reason)
        self.column = column


def _fail(line: int, reason: str, column: str | None = None) -> InvalidInputError:
    details: dict[str, object] = {"line": line, "reason": reason}
    where = f"line {line}"
    if column is not None:
        details["column"] = column
        where += f", {column}"
    return InvalidInputError(f"{where}: {reason}", code="invalid_csv", details=details)


class _LineReader:
    """Decoded lines of a binary stream read in chunks; `progress` gets the bytes read so far."""

    def __init__(self, stream: IO[bytes], chunk_bytes: int, progress: Callable[[int], None] | None) -> None:
        self._stream = stream
        self._chunk_bytes = chunk_bytes
        self._progress = progress
        self.bytes_read = 0

    def __iter__(self) -> Iterator[str]:
        chunk = self._stream.read(self._chunk_bytes)
        encoding = "utf-8"
        if chunk.startswith(codecs.BOM_UTF16_LE) or chunk.startswith(codecs.BOM_UTF16_BE):
            encoding = "utf-16"
        elif chunk.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        tail = ""
        while chunk:
            self.bytes_read += len(chunk)
            try:
                text = tail + decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise InvalidInputError(
                    f"file is not {encoding} text",
                    code="invalid_csv",
                    details={"line": 0, "reason": str(exc)},
                ) from exc
            parts = text.split("\n")
            tail = parts.pop()
            yield from parts
            if self._progress is not None:
                self._progress(self.bytes_read)
            chunk = self._stream.read(self._chunk_bytes)
        tail += decoder.decode(b"", final=True)
        if tail:
            yield tail


ToUtc = Callable[[int], int]


class _Clock:
    """Parses MT5 date and time cells into epoch milliseconds, caching dates (files repeat them a lot);
    `to_utc` turns the file's server time into UTC (None: the file is in UTC)."""

    def __init__(self, window: TimeWindow | None, to_utc: ToUtc | None = None) -> None:
        self._days: dict[str, int] = {}
        self._window = window
        self.to_utc = to_utc

    def check(self, time_ms: int) -> None:
        """Refuse a time outside the window."""
        w = self._window
        if w is not None and not w.from_ms <= time_ms <= w.to_ms:
            raise _BadLine(
                f"time {_iso(time_ms)} is outside the accepted window {_iso(w.from_ms)} .. {_iso(w.to_ms)}",
                "<DATE>",
            )

    def date_ms(self, cell: str) -> int:
        cached = self._days.get(cell)
        if cached is None:
            parts = cell.replace("-", ".").split(".")
            if len(parts) != 3 or len(parts[0]) != 4:
                raise _BadLine(f"bad date {cell!r}, expected YYYY.MM.DD", "<DATE>")
            try:
                cached = (
                    date(int(parts[0]), int(parts[1]), int(parts[2])).toordinal() - _EPOCH_ORDINAL
                ) * 86_400_000
            except ValueError as exc:
                raise _BadLine(f"bad date {cell!r}: {exc}", "<DATE>") from exc
            self._days[cell] = cached
        return cached

    @staticmethod
    def time_ms(cell: str) -> int:
        hms, _, fraction = cell.partition(".")
        parts = hms.split(":")
        if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
            raise _BadLine(f"bad time {cell!r}, expected HH:MM[:SS[.mmm]]", "<TIME>")
        h, m, s = int(parts[0]), int(parts[1]), int(parts[2]) if len(parts) == 3 else 0
        if h > 23 or m > 59 or s > 59 or (fraction and not (fraction.isdigit() and len(fraction) <= 3)):
            raise _BadLine(f"bad time {cell!r}", "<TIME>")
        return ((h * 60 + m) * 60 + s) * 1000 + (int(fraction.ljust(3, "0")) if fraction else 0)


def _iso(time_ms: int) -> str:
    return datetime.fromtimestamp(time_ms / 1000, UTC).strftime("%Y.%m.%d %H:%M:%S")


def _number(cell: str, name: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise _BadLine(f"{name} is not a number: {cell!r}", name) from None
    if not math.isfinite(value):
        raise _BadLine(f"{name} is not finite: {cell!r}", name)
    return value


def _price(cell: str, name: str) -> float:
    value = _number(cell, name)
    if value <= 0:
        raise _BadLine(f"{name} must be positive: {cell!r}", name)
    return value


def _count(cell: str, name: str) -> int:
    # int() first: a float would round a large count (2**63 - 1 reads as 2**63).
    try:
        value = int(cell)
    except ValueError:
        number = _number(cell, name)
        if number != int(number):
            raise _BadLine(f"{name} must be a non-negative integer: {cell!r}", name) from None
        value = int(number)
    if value < 0:
        raise _BadLine(f"{name} must be a non-negative integer: {cell!r}", name)
    if value > COUNT_LIMITS[name]:
        raise _BadLine(f"{name} {cell.strip()} is larger than the column holds ({COUNT_LIMITS[name]})", name)
    return value


class _BarRows:
    """Accumulates validated bar lines."""

    header = BAR_HEADER

    def __init__(
        self,
        columns: dict[str, int],
        timeframe: Timeframe | None,
        window: TimeWindow | None,
        to_utc: ToUtc | None,
    ) -> None:
        self._col = columns
        self._timeframe = timeframe
        self._clock = _Clock(window, to_utc)
        self._last_time: int | None = None
        self.blocks: list[np.ndarray] = []
        self._rows: list[tuple[int, float, float, float, float, int, int, int]] = []

    def add(self, cells: list[str]) -> None:
        c = self._col
        time_ms = self._clock.date_ms(cells[c["<DATE>"]])
        if "<TIME>" in c:
            time_ms += self._clock.time_ms(cells[c["<TIME>"]])
        if time_ms % 1000:
            raise _BadLine("a bar time has no milliseconds", "<TIME>")
        server_ms = time_ms
        if self._clock.to_utc is not None:
            time_ms = self._clock.to_utc(time_ms)
        self._clock.check(time_ms)
        t = time_ms // 1000
        if self._last_time is not None and t <= self._last_time:
            raise _BadLine("bar times must increase strictly", "<TIME>")
        if self._timeframe is not None and self._timeframe.floor(t) != t:
            if time_ms == server_ms:
                raise _BadLine(f"time is not a {self._timeframe.name} bar open", "<TIME>")
            # A broker's D1 (or H4 at UTC+3) bar spans its own day, which no UTC bar of the platform holds.
            raise _BadLine(
                f"server time {_iso(server_ms)} is {_iso(time_ms)} UTC, not a {self._timeframe.name} bar "
                "open in UTC: import the broker's M1 (or H1) bars and let the platform build the rest",
                "<TIME>",
            )
        o, h, low, close = (_price(cells[c[k]], k) for k in ("<OPEN>", "<HIGH>", "<LOW>", "<CLOSE>"))
        if not (low <= min(o, close) and h >= max(o, close)):
            raise _BadLine("high/low do not contain open and close")
        tick_volume, real_volume, spread = (
            _count(cells[c[k]], k) for k in ("<TICKVOL>", "<VOL>", "<SPREAD>")
        )
        self._last_time = t
        self._rows.append((t, o, h, low, close, tick_volume, spread, real_volume))
        if len(self._rows) >= _ROWS_PER_BLOCK:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            self.blocks.append(np.array(self._rows, dtype=RATES_DTYPE))
            self._rows = []


class _TickRows:
    """Accumulates validated tick lines, carrying blank prices forward as MT5 means them."""

    header = TICK_HEADER
    _DTYPE = np.dtype(
        [(n, TICKS_DTYPE[n]) for n in ("time_msc", "bid", "ask", "last", "volume", "flags", "volume_real")]
    )

    def __init__(
        self,
        columns: dict[str, int],
        _timeframe: Timeframe | None,
        window: TimeWindow | None,
        to_utc: ToUtc | None,
    ) -> None:
        self._col = columns
        self._clock = _Clock(window, to_utc)
        self._last_time: int | None = None
        self._prices: dict[str, float | None] = {"<BID>": None, "<ASK>": None, "<LAST>": 0.0}
        self.blocks: list[np.ndarray] = []
        self._rows: list[tuple[int, float, float, float, int, int, float]] = []

    def add(self, cells: list[str]) -> None:
        c = self._col
        time_ms = self._clock.date_ms(cells[c["<DATE>"]]) + self._clock.time_ms(cells[c["<TIME>"]])
        if self._clock.to_utc is not None:
            time_ms = self._clock.to_utc(time_ms)
        self._clock.check(time_ms)
        if self._last_time is not None and time_ms < self._last_time:
            raise _BadLine("tick times must not decrease", "<TIME>")
        given = {}
        for key in self._prices:
            cell = cells[c[key]].strip()
            if cell:
                # LAST is 0 on symbols without trades (FX), as MT5 exports it; BID and ASK never are.
                value = _number(cell, key) if key == "<LAST>" else _price(cell, key)
                if value < 0:
                    raise _BadLine(f"{key} must not be negative: {cell!r}", key)
                self._prices[key] = given[key] = value
            elif self._prices[key] is None:
                raise _BadLine(f"{key} is blank and no earlier line gives it", key)
        if "<BID>" in given and "<ASK>" in given and given["<BID>"] > given["<ASK>"]:
            raise _BadLine(f"<BID> {given['<BID>']} is above <ASK> {given['<ASK>']}", "<BID>")
        volume_cell, flags_cell = cells[c["<VOLUME>"]].strip(), cells[c["<FLAGS>"]].strip()
        volume = _number(volume_cell, "<VOLUME>") if volume_cell else 0.0
        if volume < 0:
            raise _BadLine("<VOLUME> must not be negative", "<VOLUME>")
        if volume > COUNT_LIMITS["<VOLUME>"]:
            raise _BadLine(
                f"<VOLUME> {volume_cell} is larger than the column holds ({COUNT_LIMITS['<VOLUME>']})",
                "<VOLUME>",
            )
        flags = _count(flags_cell, "<FLAGS>") if flags_cell else 0
        self._last_time = time_ms
        bid, ask, last = self._prices["<BID>"], self._prices["<ASK>"], self._prices["<LAST>"]
        self._rows.append((time_ms, bid, ask, last, int(volume), flags, volume))  # type: ignore[arg-type]
        if len(self._rows) >= _ROWS_PER_BLOCK:
            self.flush()

    def flush(self) -> None:
        if self._rows:
            rows = np.array(self._rows, dtype=self._DTYPE)
            ticks = np.empty(len(rows), dtype=TICKS_DTYPE)
            for name in self._DTYPE.names or ():
                ticks[name] = rows[name]
            ticks["time"] = rows["time_msc"] // 1000
            self.blocks.append(ticks)
            self._rows = []


def _read_header(lines: Iterator[str]) -> tuple[type[_BarRows] | type[_TickRows], list[str], str]:
    """The row kind, column names and delimiter from the header line."""
    header_line = next(lines, "").strip().lstrip("\ufeff")
    delimiter = "\t" if "\t" in header_line else ","
    names = [cell.strip().upper() for cell in header_line.split(delimiter)]
    rows_type: type[_BarRows] | type[_TickRows]
    if "<OPEN>" in names:
        rows_type = _BarRows
    elif "<BID>" in names:
        rows_type = _TickRows
    else:
        raise _fail(1, "header names neither bar (<OPEN> ...) nor tick (<BID> ...) columns")
    required = set(rows_type.header) - ({"<TIME>"} if rows_type is _BarRows else set())
    unknown = [n for n in names if n not in rows_type.header]
    if unknown or not required <= set(names) or len(set(names)) != len(names):
        raise _fail(1, f"header must hold {' '.join(rows_type.header)}; got {' '.join(names)}")
    return rows_type, names, delimiter


def scan_times(stream: IO[bytes], chunk_bytes: int = 1 << 22) -> tuple[CsvKind, Iterator[int]]:
    """The file's kind and the times its lines carry (epoch ms, as written), lazily; a line whose time
    does not parse is skipped (the full parse names it)."""
    lines = iter(_LineReader(stream, chunk_bytes, None))
    rows_type, names, delimiter = _read_header(lines)
    date_col, time_col = names.index("<DATE>"), names.index("<TIME>") if "<TIME>" in names else None
    clock = _Clock(None)

    def times() -> Iterator[int]:
        for line in lines:
            cells = line.rstrip("\r").split(delimiter)
            if len(cells) != len(names):
                continue
            try:
                t = clock.date_ms(cells[date_col])
                yield t + (clock.time_ms(cells[time_col]) if time_col is not None else 0)
            except _BadLine:
                continue

    return ("bars" if rows_type is _BarRows else "ticks"), times()


def parse_mt5_csv(
    stream: IO[bytes],
    *,
    timeframe: Timeframe | None = None,
    window: TimeWindow | None = None,
    to_utc: ToUtc | None = None,
    chunk_bytes: int = 1 << 22,
    progress: Callable[[int], None] | None = None,
) -> ParsedCsv:
    """Parse and validate a whole MT5 export (kind from its header); raises on the first bad line.

    `window` bounds the times of the lines (None: any time a date cell can hold), after `to_utc` turned
    the file's server time into UTC (None: the file is in UTC)."""
    reader = _LineReader(stream, chunk_bytes, progress)
    lines = iter(reader)
    rows_type, names, delimiter = _read_header(lines)
    rows = rows_type({name: i for i, name in enumerate(names)}, timeframe, window, to_utc)
    number = 1
    for number, line in enumerate(lines, start=2):
        text = line.rstrip("\r")
        if not text.strip():
            continue
        cells = text.split(delimiter)
        if len(cells) != len(names):
            raise _fail(number, f"expected {len(names)} fields, found {len(cells)}")
        try:
            rows.add(cells)
        except _BadLine as exc:
            raise _fail(number, str(exc), exc.column) from None
    rows.flush()
    dtype = RATES_DTYPE if rows_type is _BarRows else TICKS_DTYPE
    data = np.concatenate(rows.blocks) if rows.blocks else np.empty(0, dtype)
    return ParsedCsv("bars" if rows_type is _BarRows else "ticks", data, number, reader.bytes_read)


def _float_cells(values: np.ndarray, digits: int | None) -> list[str]:
    # repr() is the shortest text that parses back to the same float, so export → import is exact.
    return (
        [repr(v) for v in values.tolist()] if digits is None else [f"{v:.{digits}f}" for v in values.tolist()]
    )


def export_mt5_csv(
    data: np.ndarray, out: BinaryIO, *, delimiter: str = "\t", digits: int | None = None
) -> int:
    """Write bars or ticks as an MT5 export (UTF-8); returns rows. `digits=None` keeps floats exact."""
    is_bars = data.dtype == RATES_DTYPE
    header = BAR_HEADER if is_bars else TICK_HEADER
    out.write((delimiter.join(header) + "\r\n").encode())
    for start in range(0, len(data), _ROWS_PER_BLOCK):
        block = data[start : start + _ROWS_PER_BLOCK]
        if is_bars:
            stamps = np.datetime_as_string(block["time"].astype("datetime64[s]"))
            columns = [
                *(_float_cells(block[k], digits) for k in ("open", "high", "low", "close")),
                *(block[k].astype(str).tolist() for k in ("tick_volume", "real_volume", "spread")),
            ]
        else:
            stamps = np.datetime_as_string(block["time_msc"].astype("datetime64[ms]"))
            volumes = np.where(
                block["volume_real"] != 0, block["volume_real"], block["volume"].astype(np.float64)
            )
            columns = [
                *(_float_cells(block[k], digits) for k in ("bid", "ask", "last")),
                [repr(v) if v != int(v) else str(int(v)) for v in volumes.tolist()],
                block["flags"].astype(str).tolist(),
            ]
        dates = [s[:10].replace("-", ".") for s in stamps.tolist()]
        times = [s[11:] for s in stamps.tolist()]
        lines = (delimiter.join(cells) for cells in zip(dates, times, *columns, strict=True))
        out.write(("\r\n".join(lines) + "\r\n").encode())
    return len(data)
