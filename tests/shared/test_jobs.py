"""The job manager with a real process pool and a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from shared.events import EventBus, EventFilter
from shared.jobs import JobManager, JobSpec
from tests.support import job_functions
from tests.support.job_functions import CountSpec
from tests.support.waits import JOB_FINAL_STATES, wait_until_async


async def _wait_finished(manager: JobManager, job_id: str, timeout: float = 30) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        job = manager.get(job_id, with_result=True)
        return job if job["state"] in JOB_FINAL_STATES else None

    job: dict[str, Any] = await wait_until_async(finished, timeout, f"job {job_id} to finish")
    return job


def test_jobs_complete_fail_cancel_and_survive_a_restart(tmp_path: Path) -> None:
    async def scenario() -> None:
        bus = EventBus("test")
        events = bus.subscribe(EventFilter.parse("count.*,refuse.*,wait.*"))
        manager = JobManager(tmp_path / "jobs.sqlite", bus, workers=2, progress_interval_s=0)
        manager.start()
        try:
            done = manager.submit("count", CountSpec(n=50, symbol="EURUSD"), job_functions.count_to)
            assert done["state"] in ("queued", "running")
            refused = manager.submit("refuse", JobSpec(), job_functions.refuse)
            waiting = manager.submit("wait", JobSpec(), job_functions.wait_for_cancel)
            finished = await _wait_finished(manager, done["id"])
            assert finished["state"] == "completed" and finished["result"] == {"total": sum(range(50))}
            failed = await _wait_finished(manager, refused["id"])
            assert failed["state"] == "failed" and failed["error"]["code"] == "insufficient_data"
            manager.cancel(waiting["id"])
            cancelled = await _wait_finished(manager, waiting["id"])
            assert cancelled["state"] == "cancelled"
            await asyncio.sleep(0.2)
            types = [e for e in events.drain()[0]]
            assert any('"count.progress"' in e and '"symbol":"EURUSD"' in e for e in types)
            assert any('"count.completed"' in e for e in types)
            assert any('"refuse.failed"' in e for e in types)
        finally:
            await manager.aclose()
        reopened = JobManager(tmp_path / "jobs.sqlite", EventBus("test"), workers=1)
        try:
            assert reopened.get(done["id"], with_result=True)["result"] == {"total": sum(range(50))}
            assert {j["id"] for j in reopened.list()} == {done["id"], refused["id"], waiting["id"]}
        finally:
            await reopened.aclose()

    asyncio.run(scenario())


def test_jobs_worker_killed_fails_the_job_not_the_service(tmp_path: Path) -> None:
    async def scenario() -> None:
        manager = JobManager(tmp_path / "jobs.sqlite", EventBus("test"), workers=1)
        manager.start()
        try:
            job = manager.submit("die", JobSpec(), job_functions.die)
            failed = await _wait_finished(manager, job["id"])
            assert failed["state"] == "failed" and failed["error"]["code"] == "worker_lost"
            after = await _wait_finished(
                manager, manager.submit("count", CountSpec(n=3), job_functions.count_to)["id"]
            )
            assert after["state"] == "completed"
        finally:
            await manager.aclose()

    asyncio.run(scenario())


def test_jobs_typed_spec_reaches_the_worker_whole_and_only_its_params_are_stored(tmp_path: Path) -> None:
    """A job function takes its kind's spec (pickled to the worker process), not a dict with a private
    `_run` block; the stored and answered params leave out the spec's run-only fields."""

    async def scenario() -> None:
        manager = JobManager(tmp_path / "jobs.sqlite", EventBus("test"), workers=1)
        manager.start()
        try:
            spec = CountSpec(n=4, symbol="EURUSD", scratch_file=str(tmp_path / "bars.npz"))
            job = manager.submit("echo", spec, job_functions.echo)
            assert job["params"] == {"n": 4, "symbol": "EURUSD", "sleep_s": 0.0}
            finished = await _wait_finished(manager, job["id"])
            assert finished["result"] == {"n": 4, "scratch_file": str(tmp_path / "bars.npz")}
            assert manager.list("echo")[0]["params"] == job["params"]
        finally:
            await manager.aclose()

    asyncio.run(scenario())


def test_jobs_resumable_kind_stopped_by_the_service_resumes_on_the_next_start(tmp_path: Path) -> None:
    scratch = tmp_path / "starts.txt"
    resume = {"twice": (CountSpec, job_functions.run_twice)}

    async def first_run() -> tuple[str, str]:
        manager = JobManager(tmp_path / "jobs.sqlite", EventBus("test"), workers=2, resume=resume)
        manager.start()
        stopped = manager.submit("twice", CountSpec(n=1, scratch_file=str(scratch)), job_functions.run_twice)
        cancelled = manager.submit(
            "twice", CountSpec(n=1, scratch_file=str(tmp_path / "c.txt")), job_functions.run_twice
        )
        await wait_until_async(
            lambda: scratch.exists() and (tmp_path / "c.txt").exists(), 30, "both jobs to start"
        )
        manager.cancel(cancelled["id"])  # the user's cancel, then the service stops before the job ends
        await manager.aclose()
        return stopped["id"], cancelled["id"]

    async def second_run(stopped: str, cancelled: str) -> None:
        manager = JobManager(tmp_path / "jobs.sqlite", EventBus("test"), workers=1, resume=resume)
        assert [spec.scratch_file for spec in manager.resuming()] == [str(scratch)]  # type: ignore[attr-defined]
        manager.start()
        try:
            job = await _wait_finished(manager, stopped)
            assert job["state"] == "completed" and job["result"] == {"starts": 2}
            assert "_spec" not in job["params"]
            assert manager.get(cancelled)["state"] == "cancelled"
        finally:
            await manager.aclose()

    stopped, cancelled = asyncio.run(first_run())
    asyncio.run(second_run(stopped, cancelled))
