"""The read side of a job kind's HTTP API, written once: list, status, cancel, and optionally the result
and delete. Each job service mounts one router per kind next to its own `POST` start route (which
validates the request and launches the job through its core launcher).

Adding a job kind: copy the gap-fill example. In core (`services/data/core/gap_fill.py`): the kind's spec
(a frozen `shared.jobs.JobSpec`: what the job stores as its params, plus `Field(exclude=True)` run paths),
its job function `(runtime, spec, ctx)`, and a launcher that checks the spec, then calls
`jobs.submit(KIND, spec, partial(job_function, runtime))`. In the API (`services/data/api/gap_fill.py`): a
start route that builds the spec from the request and hands it to the launcher, plus

    router.include_router(job_router(KIND, get_catalog, collection="/gap-fill", item="/gap-fill/{job_id}"))

The paths stay each service's own (`/gap-fill/{id}`, `/backtest/{id}/status`, `/models/jobs/{id}`); the
answers are one shape: `JobRead`, with the result where the status carries it (`JobWithResult`).
"""

# No `from __future__ import annotations`: the routes below annotate with aliases local to `job_router`,
# which FastAPI could not resolve from strings.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status

from shared.jobs import JobCatalog, JobRead, JobWithResult, ResultShaper
from shared.service_app import FastJSONResponse

Limit = Annotated[int, Query(ge=1, le=1000, description="at most this many, newest first")]


def _no_shape() -> ResultShaper | None:
    return None


def job_router(
    kind: str,
    catalog: Callable[..., Any],
    *,
    collection: str,
    item: str,
    tags: list[str] | None = None,
    status_suffix: str = "",
    result: bool = False,
    delete: bool = False,
    list_model: type[JobRead] = JobRead,
    shape: Callable[..., ResultShaper | None] = _no_shape,
) -> APIRouter:
    """Routes for the jobs of `kind`.

    catalog: a FastAPI dependency returning the service's `JobCatalog`.
    collection: the list path (`GET`); item: one job's path, containing `{job_id}`.
    status_suffix: "" serves the status with the result at `item`; e.g. "/status" serves it without the
        result at `item + "/status"` (then give `result=True` for `GET item/result`).
    result: add `GET item/result` (the result alone; 409 until the job completed).
    delete: add `DELETE item` (finished jobs only).
    list_model: the listing's item model (a `JobRead` subclass when the service adds fields).
    shape: a FastAPI dependency returning how a result is trimmed before it is sent (its query
        parameters, e.g. `max_points`, become the routes' parameters), or None to send it whole.
    """
    router = APIRouter(tags=list(tags or [kind]))
    Catalog = Annotated[JobCatalog, Depends(catalog)]
    Shape = Annotated[ResultShaper | None, Depends(shape)]

    @router.get(collection, response_model=list[list_model], name=f"list_{kind}_jobs")  # type: ignore[valid-type]
    def list_jobs(jobs: Catalog, limit: Limit = 100) -> list[dict[str, Any]]:
        """Jobs of this kind, newest first."""
        return jobs.list(kind, limit)

    if status_suffix:

        @router.get(item + status_suffix, response_model=JobRead, name=f"{kind}_job_status")
        def job_status(job_id: str, jobs: Catalog) -> dict[str, Any]:
            """State and progress (404 unknown_job for an id of another kind)."""
            return jobs.get(kind, job_id)

    else:

        @router.get(
            item,
            response_class=FastJSONResponse,
            responses={200: {"model": JobWithResult}},
            name=f"{kind}_job_status",
        )
        def job_status_with_result(job_id: str, jobs: Catalog, trim: Shape) -> FastJSONResponse:
            """State and progress; the result once completed, the error once failed."""
            return FastJSONResponse(jobs.with_result(kind, job_id, trim))

    if result:

        @router.get(item + "/result", response_class=FastJSONResponse, name=f"{kind}_job_result")
        def job_result(job_id: str, jobs: Catalog, trim: Shape) -> FastJSONResponse:
            """The result of a completed job; 409 result_not_available naming the state otherwise."""
            return FastJSONResponse(jobs.result(kind, job_id, trim))

    @router.post(
        item + "/cancel",
        response_model=JobRead,
        status_code=status.HTTP_202_ACCEPTED,
        name=f"cancel_{kind}_job",
    )
    def cancel_job(job_id: str, jobs: Catalog) -> dict[str, Any]:
        """Ask a running job to stop at its next check (409 job_finished once it has ended)."""
        return jobs.cancel(kind, job_id)

    if delete:

        @router.delete(item, status_code=status.HTTP_204_NO_CONTENT, name=f"delete_{kind}_job")
        def delete_job(job_id: str, jobs: Catalog) -> None:
            """Remove a finished job and its result (409 job_running while it runs)."""
            jobs.delete(kind, job_id)

    return router
