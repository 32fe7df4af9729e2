"""Reading, cancelling and deleting runs of one kind (backtest, optimization, walk_forward) from the jobs."""

from __future__ import annotations

from typing import Any

from services.backtesting.core.engine import thin_index
from services.backtesting.core.summaries import SummaryStore
from shared.errors import ConflictError, NotFoundError
from shared.jobs import JobManager


def public_job(job: dict[str, Any]) -> dict[str, Any]:
    """A job record without the private `_run` block (file paths the client has no use for)."""
    params = {k: v for k, v in job["params"].items() if k != "_run"}
    return {**job, "params": params}


def thin_equity(result: dict[str, Any], max_points: int) -> dict[str, Any]:
    """The result with its equity curve (if it has one) thinned to about `max_points` points."""
    curve = result.get("equity")
    if not curve:
        return result
    index = thin_index(len(curve["time"]), max_points).tolist()
    return {**result, "equity": {name: [values[i] for i in index] for name, values in curve.items()}}


class RunCatalog:
    """Runs as the API shows them: kind-checked ids, results with thinned curves, listings with summaries."""

    def __init__(self, jobs: JobManager, summaries: SummaryStore, *, default_points: int) -> None:
        self._jobs = jobs
        self._summaries = summaries
        self._default_points = default_points

    def get(self, kind: str, job_id: str, *, with_result: bool = False) -> dict[str, Any]:
        """The job `job_id` if it is a run of `kind` (404 unknown_job otherwise)."""
        job = self._jobs.get(job_id, with_result=with_result)
        if job["kind"] != kind:
            raise NotFoundError(f"no {kind} {job_id!r}", code="unknown_job", details={"job_id": job_id})
        return public_job(job)

    def with_result(self, kind: str, job_id: str, max_points: int | None) -> dict[str, Any]:
        """Status plus the result once completed (None before), equity thinned to `max_points`."""
        job = self.get(kind, job_id, with_result=True)
        if job["result"] is not None:
            job["result"] = thin_equity(job["result"], max_points or self._default_points)
        return job

    def result(self, kind: str, job_id: str, max_points: int | None) -> dict[str, Any]:
        """The result of a completed run; 409 naming the state (and the error of a failed run) otherwise."""
        job = self.with_result(kind, job_id, max_points)
        if job["state"] != "completed":
            details: dict[str, Any] = {"job_id": job_id, "state": job["state"]}
            if job["error"]:
                details["error"] = job["error"]
            raise ConflictError(
                f"{kind} {job_id} has no result: it is {job['state']}",
                code="result_not_available",
                details=details,
            )
        return job["result"]

    def list(self, kind: str, limit: int) -> list[dict[str, Any]]:
        """Newest first; backtests carry their headline metrics."""
        jobs = [public_job(job) for job in self._jobs.list(kind, limit)]
        summaries = self._summaries.get_many(job["id"] for job in jobs if job["state"] == "completed")
        return [{**job, "summary": summaries.get(job["id"])} for job in jobs]

    def cancel(self, kind: str, job_id: str) -> dict[str, Any]:
        """Raise the cancel flag (409 if already finished); the job ends as `cancelled` shortly after."""
        self.get(kind, job_id)
        return public_job(self._jobs.cancel(job_id))

    def delete(self, kind: str, job_id: str) -> None:
        """Remove a finished run and its summary (409 while it runs)."""
        self.get(kind, job_id)
        self._jobs.delete(job_id)
        self._summaries.delete(job_id)
