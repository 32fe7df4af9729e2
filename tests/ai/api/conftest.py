"""An ai app on a temp config, driven through TestClient with the internal token, and a stand-in data
service (a real uvicorn server in a thread) serving `/ohlc` per the data service's contract."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI, Query, Response
from fastapi.testclient import TestClient

from services.ai.main import create_app
from services.ai.settings import AiSettings
from shared.columnar import ARROW_MEDIA_TYPE, encode_arrow
from shared.config import load_config, resolve_internal_token
from shared.market.records import RATES_DTYPE
from shared.service_app import error_response
from tests.ai.support import planted_bars
from tests.support.platform import write_config
from tests.support.served_app import ServedApp

FINISHED = ("completed", "failed", "cancelled")


def make_settings(directory: Path, **section: Any) -> AiSettings:
    values = {"workers": 1, "progress_interval_s": 0, **section}
    return load_config(write_config(directory, overrides={"ai": values}), model=AiSettings)


def open_client(settings: AiSettings) -> TestClient:
    return TestClient(create_app(settings), headers={"X-Internal-Token": resolve_internal_token(settings)})


def wait_job(
    get: Callable[[], dict[str, Any]], until: Callable[[dict[str, Any]], bool], timeout_s: float = 90
) -> dict[str, Any]:
    """Poll `get` until `until(job)` or the job's state is final (with a deadline, never a fixed sleep)."""
    deadline = time.monotonic() + timeout_s
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = get()
        if job["state"] in FINISHED or until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job not finished after {timeout_s}s: {job}")


def wait_finished(get: Callable[[], dict[str, Any]], timeout_s: float = 90) -> dict[str, Any]:
    return wait_job(get, lambda job: False, timeout_s)


def run_training(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    """POST /models/train, check it is accepted, and wait until the job ends; returns its final record."""
    response = client.post("/models/train", json=body)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    return wait_finished(lambda: client.get(f"/models/jobs/{job_id}").json())


def rates(n: int = 1500) -> np.ndarray:
    bars = planted_bars(n)
    out = np.zeros(n, dtype=RATES_DTYPE)
    for name, values in bars.items():
        out[name] = values
    return out


def standin_data(stored: dict[str, np.ndarray]) -> FastAPI:
    """`/ohlc/{symbol}/{timeframe}`: bars opening in [from, to], or the newest `count`, as Arrow."""
    app = FastAPI()

    @app.get("/ohlc/{symbol}/{timeframe}")
    def ohlc(
        symbol: str,
        timeframe: str,
        from_: int | None = Query(default=None, alias="from"),
        to: int | None = None,
        count: int | None = None,
        format: str = "json",
    ) -> Response:
        if symbol not in stored:
            return error_response(404, "unknown_symbol", f"unknown symbol {symbol!r}", {"symbol": symbol})
        bars = stored[symbol]
        if count is not None:
            return Response(encode_arrow(bars[-count:]), media_type=ARROW_MEDIA_TYPE)
        window = bars[(bars["time"] >= (from_ or 0)) & (bars["time"] <= (to or 2**62))]
        return Response(encode_arrow(window), media_type=ARROW_MEDIA_TYPE)

    return app


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> AiSettings:
    return make_settings(tmp_path_factory.mktemp("ai"))


@pytest.fixture(scope="module")
def client(settings: AiSettings) -> Iterator[TestClient]:
    data = ServedApp("data stand-in", standin_data({"EURUSD": rates()}), settings.service("data").port)
    with data, open_client(settings) as c:
        yield c
