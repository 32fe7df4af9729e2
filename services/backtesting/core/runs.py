"""Runs of one kind (backtest, optimization, walk_forward) as the API shows them: the shared job catalog,
plus headline metrics in listings and thinned equity curves in results."""

from __future__ import annotations

from typing import Any

from services.backtesting.core.engine import thin_index
from services.backtesting.core.summaries import SummaryStore
from shared.jobs import JobCatalog, JobManager


def thin_equity(result: dict[str, Any], max_points: int) -> dict[str, Any]:
    """The result with its equity curve (if it has one) thinned to about `max_points` points."""
    curve = result.get("equity")
    if not curve:
        return result
    index = thin_index(len(curve["time"]), max_points).tolist()
    return {**result, "equity": {name: [values[i] for i in index] for name, values in curve.items()}}


def thin_portfolio(result: dict[str, Any], max_points: int) -> dict[str, Any]:
    """A portfolio's result with every curve (combined, per leg, per symbol, per strategy) thinned."""
    if "combined" not in result:
        return result
    return {
        **result,
        "combined": thin_equity(result["combined"], max_points),
        "legs": [thin_equity(leg, max_points) for leg in result["legs"]],
        "symbols": {name: thin_equity(r, max_points) for name, r in result["symbols"].items()},
        "strategies": {name: thin_equity(r, max_points) for name, r in result["strategies"].items()},
    }


class RunCatalog(JobCatalog):
    """The job catalog, with backtests' headline metrics in listings (dropped with their run)."""

    def __init__(self, jobs: JobManager, summaries: SummaryStore, *, default_points: int) -> None:
        super().__init__(jobs)
        self._summaries = summaries
        self.default_points = default_points

    def list(self, kind: str, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; completed runs carry their headline metrics."""
        jobs = super().list(kind, limit)
        summaries = self._summaries.get_many(job["id"] for job in jobs if job["state"] == "completed")
        return [{**job, "summary": summaries.get(job["id"])} for job in jobs]

    def completed(self, kind: str, job_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A completed run's job record (its stored parameters) and full result; 404 unknown_job, 409
        result_not_available as for the result route."""
        result = self.result(kind, job_id)
        return self.get(kind, job_id), result

    def delete(self, kind: str, job_id: str) -> None:
        """Remove a finished run and its summary (409 while it runs)."""
        super().delete(kind, job_id)
        self._summaries.delete(job_id)
