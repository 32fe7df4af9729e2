"""Gap fill: find the missing bars of a range, fetch them from the terminal in chunks, store them.

Only closed bars are asked for (the terminal's current bar is still forming), expected opens the
terminal returns nothing for are marked unfillable so the next run skips them, and writes are upserts,
so a second run over the same range finds nothing missing and fetches nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from pydantic import ConfigDict, Field

from services.data.core.gap_plan import FetchChunk, plan_bar_fetches, plan_tick_fetches
from services.data.core.partitions import Granularity
from services.data.core.stores import DataStores, open_stores
from shared.contracts.mt5 import Mt5HistoryClient
from shared.errors import InvalidInputError, PlatformError
from shared.jobs import JobContext, JobManager, JobSpec
from shared.market.calendar import FX_CALENDAR, WeeklyCalendar
from shared.market.clock import refuse_future
from shared.market.timeframes import Timeframe, get_timeframe

KIND = "gapfill"


class HistorySource(Protocol):
    """What gap fill needs from the terminal (blocking calls; it runs in a worker process)."""

    def latest_tick_ms(self, symbol: str) -> int | None: ...

    def market_now_ms(self) -> int: ...

    def rates(self, symbol: str, timeframe: str, from_s: int, to_s: int) -> np.ndarray: ...

    def ticks(self, symbol: str, from_ms: int, to_ms: int) -> np.ndarray: ...


class GapFillRequest(JobSpec):
    """The job spec of a gap fill, stored as its params (`from`/`to` by their aliases) and handed to its
    worker whole. Times are epoch seconds, `to` exclusive."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    symbols: tuple[str, ...]
    timeframes: tuple[str, ...]
    from_s: int = Field(validation_alias="from", serialization_alias="from")
    to_s: int = Field(validation_alias="to", serialization_alias="to")
    include_ticks: bool = False


def _closed_until(tf: Timeframe, latest_s: int, now_s: int) -> int:
    """Where the closed bars end: the bar holding the terminal's newest tick is still forming until its
    period is over by the market's clock (Friday's last bar is final over the weekend, when no later tick
    comes to close it)."""
    forming = tf.floor(latest_s)
    if tf.seconds and now_s >= forming + tf.seconds:
        return forming + tf.seconds
    return forming


@dataclass(frozen=True, slots=True)
class _Task:
    kind: str  # "bars" or "ticks"
    symbol: str
    timeframe: Timeframe | None
    chunk: FetchChunk


@dataclass(slots=True)
class _Outcome:
    """Per symbol x timeframe (or x "ticks") counts, returned as the job result."""

    symbol: str
    timeframe: str
    missing_bars: int = 0
    fetched: int = 0
    written: int = 0
    unfillable: list[tuple[int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "missing_bars": self.missing_bars,
            "fetched": self.fetched,
            "written": self.written,
            "unfillable": [{"from": a, "to": b} for a, b in self.unfillable],
        }


Progress = Callable[[int, int, float], None]  # (ranges done, ranges total, seconds elapsed)


def absent_runs(expected: np.ndarray, present: np.ndarray, timeframe: Timeframe) -> list[tuple[int, int]]:
    """[from, to) runs of expected opens that are not in `present`."""
    absent = ~np.isin(expected, present)
    if not absent.any():
        return []
    edges = np.flatnonzero(np.diff(np.r_[0, absent.astype(np.int8), 0]))
    return [
        (int(expected[lo]), timeframe.next_open(int(expected[hi - 1])))
        for lo, hi in zip(edges[::2], edges[1::2], strict=True)
    ]


class GapFiller:
    """Plans and runs one gap fill over stores and a history source."""

    def __init__(
        self,
        stores: DataStores,
        source: HistorySource,
        *,
        chunk_bars: int,
        tick_chunk_s: int,
        calendar: WeeklyCalendar = FX_CALENDAR,
    ) -> None:
        self._stores = stores
        self._source = source
        self._chunk_bars = chunk_bars
        self._tick_chunk_s = tick_chunk_s
        self._calendar = calendar

    def plan(self, request: GapFillRequest) -> tuple[list[_Task], dict[tuple[str, str], _Outcome]]:
        """Every fetch the request needs, and the outcome records they will fill in."""
        tasks: list[_Task] = []
        outcomes: dict[tuple[str, str], _Outcome] = {}
        timeframes = sorted(
            (get_timeframe(tf) for tf in request.timeframes), key=lambda tf: tf.seconds or 1e9
        )
        now_s = self._source.market_now_ms() // 1000
        for symbol in request.symbols:
            latest_ms = self._source.latest_tick_ms(symbol)
            if latest_ms is None:
                continue
            for i, tf in enumerate(timeframes):
                end = min(request.to_s, _closed_until(tf, latest_ms // 1000, now_s))
                outcome = outcomes.setdefault((symbol, tf.name), _Outcome(symbol, tf.name))
                if end <= request.from_s:
                    continue
                report = self._stores.bars.completeness(symbol, tf.name, request.from_s, end, self._calendar)
                fillable = report.fillable
                outcome.missing_bars = sum(r.bars for r in fillable)
                chunks = plan_bar_fetches(fillable, tf, self._chunk_bars, self._calendar)
                tasks += [_Task("bars", symbol, tf, c) for c in chunks]
                if request.include_ticks and i == 0:
                    outcomes[(symbol, "ticks")] = _Outcome(symbol, "ticks")
                    tick_chunks = plan_tick_fetches(fillable, self._tick_chunk_s, self._calendar)
                    tasks += [_Task("ticks", symbol, None, c) for c in tick_chunks]
        return tasks, outcomes

    def run(
        self,
        request: GapFillRequest,
        *,
        progress: Progress | None = None,
        check_cancelled: Callable[[], None] = lambda: None,
    ) -> dict[str, Any]:
        """Fill the request's gaps; returns what was missing, fetched, written and found unfillable."""
        started = time.monotonic()
        tasks, outcomes = self.plan(request)
        for done, task in enumerate(tasks):
            check_cancelled()
            if task.kind == "bars":
                assert task.timeframe is not None
                self._fill_bars(
                    task.symbol, task.timeframe, task.chunk, outcomes[(task.symbol, task.timeframe.name)]
                )
            else:
                self._fill_ticks(task.symbol, task.chunk, outcomes[(task.symbol, "ticks")])
            if progress is not None:
                progress(done + 1, len(tasks), time.monotonic() - started)
        return {
            "ranges_total": len(tasks),
            "elapsed_s": round(time.monotonic() - started, 3),
            "results": [o.as_dict() for o in outcomes.values()],
        }

    def _fill_bars(self, symbol: str, tf: Timeframe, chunk: FetchChunk, outcome: _Outcome) -> None:
        got = self._fetch_bars(symbol, tf, chunk.from_s, chunk.to_s)
        got = got[(got["time"] >= chunk.from_s) & (got["time"] < chunk.to_s)]
        outcome.fetched += len(got)
        if len(got):
            outcome.written += self._stores.bars.upsert(symbol, tf.name, got, "terminal")
        expected = self._calendar.expected_bar_opens(tf, chunk.from_s, chunk.to_s)
        holes = absent_runs(expected, got["time"], tf)
        if holes:
            self._stores.bars.mark_unfillable(symbol, tf.name, holes)
            outcome.unfillable += holes

    def _fetch_bars(self, symbol: str, tf: Timeframe, from_s: int, to_s: int) -> np.ndarray:
        """Bars opening in [from_s, to_s); a range the terminal calls too large is split in two."""
        try:
            return self._source.rates(symbol, tf.name, from_s, to_s - 1)
        except PlatformError as exc:
            opens = self._calendar.expected_bar_opens(tf, from_s, to_s)
            if exc.status_code != 422 or len(opens) < 2:
                raise
            middle = int(opens[len(opens) // 2])
            return np.concatenate(
                [self._fetch_bars(symbol, tf, from_s, middle), self._fetch_bars(symbol, tf, middle, to_s)]
            )

    def _fill_ticks(self, symbol: str, chunk: FetchChunk, outcome: _Outcome) -> None:
        # The range starts at a millisecond's beginning, so the store's in-millisecond index is right.
        got = self._source.ticks(symbol, chunk.from_s * 1000, chunk.to_s * 1000 - 1)
        outcome.fetched += len(got)
        outcome.written += self._stores.ticks.insert_batch(symbol, got)


@dataclass(frozen=True, slots=True)
class GapFillRuntime:
    """What a gap-fill worker process needs to open the stores and reach the mt5 service."""

    storage_root: Path
    database_url: str | None
    granularity: Granularity
    stored_timeframes: tuple[str, ...]
    mt5_url: str
    token: str
    chunk_bars: int
    tick_chunk_s: int
    timeout_s: float


def gap_fill_job(runtime: GapFillRuntime, request: GapFillRequest, ctx: JobContext) -> dict[str, Any]:
    """The job body (run in a worker process): its own stores and its own HTTP client."""
    stores = open_stores(
        runtime.storage_root,
        database_url=runtime.database_url,
        granularity=runtime.granularity,
        timeframes=runtime.stored_timeframes,
    )
    source = Mt5HistoryClient(runtime.mt5_url, runtime.token, runtime.timeout_s)

    def progress(done: int, total: int, elapsed_s: float) -> None:
        eta = elapsed_s / done * (total - done) if done else None
        ctx.progress(
            done / total if total else 1.0,
            f"{done}/{total} ranges",
            ranges_done=done,
            ranges_total=total,
            eta_s=None if eta is None else round(eta, 1),
        )

    try:
        filler = GapFiller(stores, source, chunk_bars=runtime.chunk_bars, tick_chunk_s=runtime.tick_chunk_s)
        result = filler.run(request, progress=progress, check_cancelled=ctx.check_cancelled)
        return {**result, "requests": source.requests}
    finally:
        source.close()
        stores.close()


def start_gap_fill(
    request: GapFillRequest,
    *,
    jobs: JobManager,
    runtime: GapFillRuntime,
    stored_timeframes: Sequence[str],
    market_now_ms: int,
) -> dict[str, Any]:
    """Launch a gap-fill job; everything a request can get wrong is refused first, so a refusal stores
    no job. The template for a job kind: check the typed spec (a `JobSpec`), then
    `jobs.submit(KIND, spec, partial(job_function, runtime))`; the read routes come from
    `shared.job_routes.job_router`."""
    not_stored = [tf for tf in request.timeframes if tf not in stored_timeframes]
    if not_stored:
        raise InvalidInputError(
            f"timeframes {', '.join(not_stored)} are not stored (stored: {', '.join(stored_timeframes)})",
            code="unknown_timeframe",
            details={"field": "timeframes", "timeframes": not_stored},
        )
    refuse_future(market_now_ms, request.from_s)
    return jobs.submit(KIND, request, partial(gap_fill_job, runtime))
