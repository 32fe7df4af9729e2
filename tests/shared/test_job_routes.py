"""The shared job routes over a real JobManager (process pool, SQLite file): one answer shape, kind-checked
ids, private parameters never shown, 202 for a cancel, 409 for a result that is not there."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from shared.config import PlatformSettings, load_config
from shared.events import EventBus
from shared.job_routes import job_router
from shared.jobs import JobCatalog, JobManager, JobSpec
from shared.service_app import create_service_app
from tests.support import job_functions
from tests.support.platform import write_config


def _catalog(request: Request) -> JobCatalog:
    return request.app.state.catalog


start = APIRouter()


@start.post("/count", status_code=202)
async def start_count(request: Request, n: int = 5) -> dict[str, Any]:
    return request.app.state.catalog.jobs.submit(
        "count", job_functions.CountSpec(n=n, scratch_file="/secret"), job_functions.count_to
    )


@start.post("/wait", status_code=202)
async def start_wait(request: Request) -> dict[str, Any]:
    return request.app.state.catalog.jobs.submit("wait", JobSpec(), job_functions.wait_for_cancel)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("jobs")
    settings = load_config(write_config(root), model=PlatformSettings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        jobs = JobManager(Path(root, "jobs.sqlite"), EventBus("test"), workers=1)
        jobs.start()
        app.state.catalog = JobCatalog(jobs)
        try:
            yield
        finally:
            await jobs.aclose()

    routers = [
        start,
        job_router("count", _catalog, collection="/counts", item="/count/{job_id}", result=True, delete=True),
        job_router(
            "wait", _catalog, collection="/waits", item="/wait/{job_id}", status_suffix="/status", result=True
        ),
    ]
    app = create_service_app(
        "probe", settings, routers=routers, lifespan=lifespan, require_internal_token=False
    )
    with TestClient(app) as test_client:
        yield test_client


def _finished(client: TestClient, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (job := client.get(path).json())["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    return job


def test_a_job_is_read_listed_and_deleted_through_its_kind_only(client: TestClient) -> None:
    job = client.post("/count", params={"n": 10}).json()
    params = {"n": 10, "symbol": None, "sleep_s": 0.0}
    assert job["params"] == params  # the spec's run path (scratch_file) stays with the worker
    done = _finished(client, f"/count/{job['id']}")
    assert done["result"] == {"total": 45} and done["params"] == params
    assert client.get(f"/count/{job['id']}/result").json() == {"total": 45}
    assert [j["id"] for j in client.get("/counts").json()] == [job["id"]]
    assert client.get("/waits").json() == []
    assert client.get(f"/wait/{job['id']}/status").json()["error"]["code"] == "unknown_job"
    assert client.post(f"/count/{job['id']}/cancel").json()["error"]["code"] == "job_finished"
    assert client.delete(f"/count/{job['id']}").status_code == 204
    assert client.get(f"/count/{job['id']}").status_code == 404


def test_a_result_before_completion_is_409_and_a_cancel_is_accepted(client: TestClient) -> None:
    job = client.post("/wait").json()
    status = client.get(f"/wait/{job['id']}/status").json()
    assert "result" not in status and status["state"] in ("queued", "running")
    early = client.get(f"/wait/{job['id']}/result").json()["error"]  # runs until cancelled
    assert early["code"] == "result_not_available" and early["details"]["state"] in ("queued", "running")
    cancel = client.post(f"/wait/{job['id']}/cancel")
    assert cancel.status_code == 202 and cancel.json()["id"] == job["id"]
    assert _finished(client, f"/wait/{job['id']}/status")["state"] == "cancelled"
