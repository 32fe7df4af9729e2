"""Long work as jobs (DESIGN §5): `submit` returns an id at once; progress is stored and published as
`<kind>.progress` events; a job can be cancelled; its result or error is persisted.

Job functions run in a process pool (CPU work never touches the event loop, and a crash of one job
cannot take the service down). They receive their kind's typed, frozen `JobSpec` and a `JobContext`
whose `progress()` sends updates back through a queue and whose `cancelled()` looks for a flag file,
which works across processes without a manager process; `publish()` sends a catalog event the same way.

Jobs that were running when the service stopped are marked failed on the next start, so a restart never
leaves a half-finished result that looks complete, unless their kind is resumable (`resume=`): those
store their whole spec (a private `_spec` params block) and are submitted again under the same id, and the
job function carries on from what it persisted (an optimisation's study). A service stop raises their
cancel flag with a `stop` mark, so the worker stops without treating it as the user's cancel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict
from sqlalchemy import JSON, BigInteger, Column, Float, MetaData, String, Table, Text, select, update

from shared.db import sqlite_engine
from shared.errors import ConflictError, NotFoundError, PlatformError
from shared.event_catalog import CATALOG, job_event
from shared.event_payloads import JobCompleted, JobFailed, JobProgress, Payload
from shared.events import EventBus
from shared.utils import get_timestamp_ms

log = logging.getLogger(__name__)


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED})
# Rows stored before typed specs carried the worker's paths in a `_run` params block; never show it.
PRIVATE_PREFIX = "_"
RESUME_KEY = "_spec"  # a resumable job's whole spec, private


class JobSpec(BaseModel):
    """A job kind's typed input: frozen, handed whole (pickled) to the job function in its worker process.

    `stored_params()` is what the job row stores and the API shows as the job's parameters; fields only the
    worker needs (the bars file of this run) are declared `Field(exclude=True)`, so they never reach a
    client. Service-wide things a worker needs (database paths, limits) are not part of a spec: the
    launcher binds them to the job function (`functools.partial(job, runtime)`).
    """

    model_config = ConfigDict(frozen=True)

    def stored_params(self) -> dict[str, Any]:
        """The job's parameters as stored and answered (JSON types, aliases applied)."""
        return self.model_dump(mode="json", by_alias=True)

    def resume_state(self) -> dict[str, Any]:
        """Every field, the excluded ones too: what a resumed job's spec is validated from."""
        hidden = {name: getattr(self, name) for name, f in type(self).model_fields.items() if f.exclude}
        return {**self.model_dump(mode="json"), **hidden}

    def can_resume(self) -> bool:
        """Whether what the job needs still exists after a restart (a spec with files says no if they went)."""
        return True


class JobRead(BaseModel):
    """A job as every job service answers it: state, progress and its parameters as requested."""

    id: str
    kind: str
    state: JobState
    percent: float
    message: str
    params: dict[str, Any]
    error: dict[str, Any] | None = None
    created_ms: int
    started_ms: int | None = None
    finished_ms: int | None = None


class JobWithResult(JobRead):
    """A job with its result (None until it completed)."""

    result: dict[str, Any] | None = None


metadata = MetaData()
jobs_table = Table(
    "jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(64), nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("progress", Float, nullable=False, default=0.0),
    Column("message", Text, nullable=False, default=""),
    Column("params", JSON, nullable=False),
    Column("result", Text, nullable=True),  # orjson text; may be large
    Column("error", JSON, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("started_ms", BigInteger, nullable=True),
    Column("finished_ms", BigInteger, nullable=True),
)


class JobCancelled(Exception):
    """Raised inside a job function when its cancel flag is set."""


@dataclass(frozen=True)
class JobContext:
    """What a job function gets: its id, a progress reporter and a cancellation check."""

    job_id: str
    cancel_dir: str

    def progress(self, fraction: float, message: str = "", **extra: Any) -> None:
        _progress_queue().put((self.job_id, min(1.0, max(0.0, float(fraction))), message, extra))

    def cancelled(self) -> bool:
        return Path(self.cancel_dir, self.job_id).exists()

    def stopping(self) -> bool:
        """Whether the flag was raised by a service stop (the job will resume), not by a cancel."""
        try:
            return Path(self.cancel_dir, self.job_id).read_text() == STOP_MARK
        except OSError:
            return False

    def publish(self, event_type: str, payload: Payload) -> None:
        """Publish a catalog event from the worker (relayed by the service, never throttled)."""
        _progress_queue().put(JobEvent(event_type, payload.wire()))

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise JobCancelled(self.job_id)


# Written into a cancel flag by a service stop: a resumable job stops but is not cancelled.
STOP_MARK = "stop"


@dataclass(frozen=True)
class JobEvent:
    """An event a worker sends through the progress queue."""

    event_type: str
    data: dict[str, Any]


_QUEUE: Any = None


def _init_worker(progress_queue: Any) -> None:
    global _QUEUE
    _QUEUE = progress_queue


def _progress_queue() -> Any:
    if _QUEUE is None:  # called in the parent (a thread executor in tests)
        raise RuntimeError("JobContext.progress used outside a job worker")
    return _QUEUE


SpecT = TypeVar("SpecT", bound=JobSpec)
JobFunction = Callable[[SpecT, JobContext], Any]
# A resumable kind: its spec type (to rebuild the stored spec) and its job function.
Resumable = tuple[type[JobSpec], JobFunction[Any]]


def _run_job(fn: JobFunction[SpecT], spec: SpecT, ctx: JobContext) -> tuple[str, Any]:
    """Worker side: run and classify the outcome, so no exception type needs pickling."""
    try:
        return "completed", fn(spec, ctx)
    except JobCancelled:
        return "cancelled", None
    except PlatformError as exc:
        return "failed", exc.to_body()["error"]
    except Exception as exc:  # a bug in a job must fail the job, not the service
        return "failed", {
            "code": "job_crashed",
            "message": f"{type(exc).__name__}: {exc}",
            "details": {"traceback": traceback.format_exc(limit=5)},
        }


class JobManager:
    """Submits, tracks and persists jobs of several kinds for one service."""

    def __init__(
        self,
        db_path: Path,
        bus: EventBus,
        *,
        workers: int = 2,
        progress_interval_s: float = 0.25,
        executor: Executor | None = None,
        resume: dict[str, Resumable] | None = None,
    ) -> None:
        self._engine = sqlite_engine(db_path)
        metadata.create_all(self._engine)
        self._cancel_dir = db_path.parent / "job-cancel"
        self._cancel_dir.mkdir(parents=True, exist_ok=True)
        self._bus = bus
        self._interval = progress_interval_s
        self._mp = multiprocessing.get_context("spawn")
        self._queue = self._mp.Queue()
        self._workers = workers
        self._executor = executor or self._new_pool()
        self._last_progress: dict[str, float] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: threading.Thread | None = None
        self._closing = False
        self._resumable = resume or {}
        self._resuming: list[tuple[str, str, JobSpec, dict[str, Any]]] = []
        self._recover_interrupted()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self._workers, mp_context=self._mp, initializer=_init_worker, initargs=(self._queue,)
        )

    def _recover_interrupted(self) -> None:
        """Jobs left queued or running by the last run: resumable ones are queued again (a cancel the user
        asked for ends them as cancelled), the others fail as interrupted."""
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(jobs_table.c.id, jobs_table.c.kind, jobs_table.c.params).where(
                    jobs_table.c.state.in_([JobState.QUEUED, JobState.RUNNING])
                )
            ).all()
        for job_id, kind, params in rows:
            flag = self._cancel_flag(job_id)
            mark = flag.read_text() if flag.exists() else None
            flag.unlink(missing_ok=True)
            spec = self._stored_spec(kind, params)
            if mark is not None and mark != STOP_MARK:
                self._update(job_id, state=JobState.CANCELLED, finished_ms=get_timestamp_ms())
            elif spec is not None and spec.can_resume():
                self._update(job_id, state=JobState.QUEUED, message="resuming after a restart")
                public = {k: v for k, v in params.items() if not k.startswith(PRIVATE_PREFIX)}
                self._resuming.append((job_id, kind, spec, public))
            else:
                self._update(
                    job_id,
                    state=JobState.FAILED,
                    finished_ms=get_timestamp_ms(),
                    error={
                        "code": "interrupted",
                        "message": "the service stopped while the job ran",
                        "details": {},
                    },
                )

    def _stored_spec(self, kind: str, params: dict[str, Any]) -> JobSpec | None:
        """The spec a resumable job stored, or None (not resumable, or stored by an older version)."""
        if kind not in self._resumable or RESUME_KEY not in params:
            return None
        try:
            return self._resumable[kind][0].model_validate(params[RESUME_KEY])
        except ValueError:
            log.warning("job %s: its stored spec no longer validates; not resuming it", kind)
            return None

    def resuming(self) -> list[JobSpec]:
        """The specs of the jobs this start resumes (so their files are kept)."""
        return [spec for _, _, spec, _ in self._resuming]

    def start(self) -> None:
        """Begin relaying progress from workers (call from the running event loop)."""
        self._loop = asyncio.get_running_loop()
        self._reader = threading.Thread(target=self._read_progress, name="job-progress", daemon=True)
        self._reader.start()
        for job_id, kind, spec, params in self._resuming:
            log.info("resuming %s job %s", kind, job_id)
            fn = self._resumable[kind][1]
            self._tasks[job_id] = asyncio.create_task(
                self._run(job_id, kind, spec, params, fn), name=f"job-{job_id}"
            )
        self._resuming.clear()

    async def aclose(self) -> None:
        self._closing = True
        for job_id in list(self._tasks):
            flag = self._cancel_flag(job_id)
            if not flag.exists():  # a cancel the user asked for stays a cancel
                flag.write_text(STOP_MARK)
        for task in list(self._tasks.values()):
            task.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._queue.put(None)
        if self._reader is not None:
            await asyncio.to_thread(self._reader.join, 2)
        self._engine.dispose()

    def submit(self, kind: str, spec: SpecT, fn: JobFunction[SpecT]) -> dict[str, Any]:
        """Persist a queued job (its params are `spec.stored_params()`) and start `fn(spec, ctx)` in a worker;
        returns its record at once."""
        job_id = uuid.uuid4().hex
        params = spec.stored_params()
        row = {
            "id": job_id,
            "kind": kind,
            "state": JobState.QUEUED,
            "progress": 0.0,
            "message": "",
            "params": {**params, RESUME_KEY: spec.resume_state()} if kind in self._resumable else params,
            "result": None,
            "error": None,
            "created_ms": get_timestamp_ms(),
        }
        with self._engine.begin() as conn:
            conn.execute(jobs_table.insert().values(**row))
        self._tasks[job_id] = asyncio.create_task(
            self._run(job_id, kind, spec, params, fn), name=f"job-{job_id}"
        )
        return self.get(job_id)

    async def _run(
        self, job_id: str, kind: str, spec: SpecT, params: dict[str, Any], fn: JobFunction[SpecT]
    ) -> None:
        ctx = JobContext(job_id, str(self._cancel_dir))
        self._update(job_id, state=JobState.RUNNING, started_ms=get_timestamp_ms())
        try:
            loop = asyncio.get_running_loop()
            outcome, payload = await loop.run_in_executor(self._executor, _run_job, fn, spec, ctx)
        except asyncio.CancelledError:
            if not self._closing:
                raise
            return
        except (
            BrokenProcessPool
        ) as exc:  # a worker died (killed, out of memory): fail the job, renew the pool
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._new_pool()
            outcome, payload = (
                "failed",
                {"code": "worker_lost", "message": f"{type(exc).__name__}: {exc}", "details": {}},
            )
        finally:
            self._tasks.pop(job_id, None)
        now = get_timestamp_ms()
        if outcome == "completed":
            self._update(
                job_id,
                state=JobState.COMPLETED,
                progress=1.0,
                result=orjson.dumps(payload, option=orjson.OPT_SERIALIZE_NUMPY).decode(),
                finished_ms=now,
            )
            self._bus.publish(
                job_event(kind, "completed"),
                JobCompleted.model_validate({"job_id": job_id, **_summary(params)}),
            )
        elif outcome == "cancelled":
            self._update(job_id, state=JobState.CANCELLED, finished_ms=now)
            self._bus.publish(
                job_event(kind, "failed"),
                JobFailed.model_validate({"job_id": job_id, "reason": "cancelled", **_summary(params)}),
            )
        else:
            self._update(job_id, state=JobState.FAILED, error=payload, finished_ms=now)
            self._bus.publish(
                job_event(kind, "failed"),
                JobFailed.model_validate(
                    {"job_id": job_id, "reason": payload.get("message"), **_summary(params)}
                ),
            )
        self._cancel_flag(job_id).unlink(missing_ok=True)

    def _cancel_flag(self, job_id: str) -> Path:
        return self._cancel_dir / job_id

    def cancel(self, job_id: str) -> dict[str, Any]:
        job = self.get(job_id)
        if JobState(job["state"]) in FINISHED:
            raise ConflictError(f"job {job_id} is already {job['state']}", code="job_finished")
        self._cancel_flag(job_id).touch()
        return job

    def get(self, job_id: str, *, with_result: bool = False) -> dict[str, Any]:
        with self._engine.connect() as conn:
            row = conn.execute(select(jobs_table).where(jobs_table.c.id == job_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no job {job_id!r}", code="unknown_job", details={"job_id": job_id})
        return _record(row, with_result=with_result)

    def list(self, kind: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        query = select(jobs_table).order_by(jobs_table.c.created_ms.desc()).limit(limit)
        if kind is not None:
            query = query.where(jobs_table.c.kind == kind)
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query).mappings()]

    def delete(self, job_id: str) -> None:
        job = self.get(job_id)
        if JobState(job["state"]) not in FINISHED:
            raise ConflictError(f"job {job_id} is {job['state']}; cancel it first", code="job_running")
        with self._engine.begin() as conn:
            conn.execute(jobs_table.delete().where(jobs_table.c.id == job_id))

    def _update(self, job_id: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(update(jobs_table).where(jobs_table.c.id == job_id).values(**values))

    def _read_progress(self) -> None:
        while True:
            try:
                item = self._queue.get()
            except (EOFError, OSError):
                return
            if item is None:
                return
            if self._loop is not None:
                with contextlib.suppress(RuntimeError):
                    if isinstance(item, JobEvent):
                        self._loop.call_soon_threadsafe(self._on_event, item)
                    else:
                        self._loop.call_soon_threadsafe(self._on_progress, *item)

    def _on_event(self, event: JobEvent) -> None:
        spec = CATALOG.get(event.event_type)
        if spec is None:
            log.warning("a job sent an event of unknown type %r; dropped", event.event_type)
            return
        self._bus.publish(event.event_type, spec.payload.model_validate(event.data))

    def _on_progress(self, job_id: str, fraction: float, message: str, extra: dict[str, Any]) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_progress.get(job_id, 0.0) < self._interval:
            return
        self._last_progress[job_id] = now
        try:
            job = self.get(job_id)
        except NotFoundError:
            return
        self._update(job_id, progress=fraction, message=message)
        self._bus.publish(
            job_event(job["kind"], "progress"),
            # Validated from one dict, as before: a later key wins (the job's summary over its progress extras).
            JobProgress.model_validate(
                {
                    "job_id": job_id,
                    "percent": round(fraction * 100, 2),
                    "message": message,
                    **extra,
                    **_summary(job["params"]),
                }
            ),
        )


def _summary(params: dict[str, Any]) -> dict[str, Any]:
    """Fields worth repeating in every event of a job (so filters by symbol work)."""
    return {
        k: params[k] for k in ("symbol", "strategy", "name") if k in params and isinstance(params[k], str)
    }


def _record(row: Any, *, with_result: bool = False) -> dict[str, Any]:
    record = {
        k: row[k]
        for k in (
            "id",
            "kind",
            "state",
            "progress",
            "message",
            "params",
            "error",
            "created_ms",
            "started_ms",
            "finished_ms",
        )
    }
    record["params"] = {k: v for k, v in record["params"].items() if not k.startswith(PRIVATE_PREFIX)}
    record["percent"] = round(record.pop("progress") * 100, 2)
    if with_result:
        record["result"] = orjson.loads(row["result"]) if row["result"] else None
    return record


ResultShaper = Callable[[dict[str, Any]], dict[str, Any]]


class JobCatalog:
    """A service's jobs as its API shows them, one kind at a time: an id of another kind is a 404, so two
    kinds sharing the jobs table never answer for each other. Subclass it to add per-kind extras (the
    backtesting service adds headline metrics to its listings)."""

    def __init__(self, jobs: JobManager) -> None:
        self.jobs = jobs

    def get(self, kind: str, job_id: str, *, with_result: bool = False) -> dict[str, Any]:
        """The job `job_id` if it is of `kind` (404 unknown_job otherwise)."""
        job = self.jobs.get(job_id, with_result=with_result)
        if job["kind"] != kind:
            raise NotFoundError(f"no {kind} job {job_id!r}", code="unknown_job", details={"job_id": job_id})
        return job

    def with_result(self, kind: str, job_id: str, shape: ResultShaper | None = None) -> dict[str, Any]:
        """State plus the result once completed (None before), passed through `shape` if given."""
        job = self.get(kind, job_id, with_result=True)
        if job["result"] is not None and shape is not None:
            job["result"] = shape(job["result"])
        return job

    def result(self, kind: str, job_id: str, shape: ResultShaper | None = None) -> Any:
        """The result of a completed job; 409 naming the state (and a failed job's error) otherwise."""
        job = self.with_result(kind, job_id, shape)
        if job["state"] != JobState.COMPLETED:
            details: dict[str, Any] = {"job_id": job_id, "state": job["state"]}
            if job["error"]:
                details["error"] = job["error"]
            raise ConflictError(
                f"{kind} {job_id} has no result: it is {job['state']}",
                code="result_not_available",
                details=details,
            )
        return job["result"]

    def list(self, kind: str, limit: int = 100) -> list[dict[str, Any]]:
        """Jobs of `kind`, newest first."""
        return self.jobs.list(kind, limit)

    def cancel(self, kind: str, job_id: str) -> dict[str, Any]:
        """Raise the cancel flag (409 if already finished); the job ends as `cancelled` shortly after."""
        self.get(kind, job_id)
        return self.jobs.cancel(job_id)

    def delete(self, kind: str, job_id: str) -> None:
        """Remove a finished job (409 while it runs)."""
        self.get(kind, job_id)
        self.jobs.delete(job_id)
