"""Request body limits over real HTTP: an oversized body is refused with a 413 before it is read whole."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Request
from pydantic import BaseModel

from shared.body_limits import body_family
from shared.config import PlatformSettings, load_config
from shared.service_app import create_service_app
from tests.support.platform import free_ports, write_config
from tests.support.served_app import ServedApp

DEFAULT_LIMIT = 4096
IMPORT_LIMIT = 64 * 1024

router = APIRouter()
written: list[Any] = []


class Order(BaseModel):
    comment: str


@router.post("/orders")
async def place(order: Order) -> dict[str, int]:
    written.append(order)
    return {"written": len(written)}


@router.post("/import")
async def import_file(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    written.append(size)
    return {"bytes": size}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """A service app named "data" (so `/import` is of the import family) on a real port."""
    config = write_config(
        tmp_path_factory.mktemp("limits"),
        overrides={"body_limits": {"default_bytes": DEFAULT_LIMIT, "import_bytes": IMPORT_LIMIT}},
    )
    settings = load_config(config, model=PlatformSettings)
    app = create_service_app("data", settings, routers=[router], require_internal_token=False)
    with ServedApp("limits", app, free_ports(1)[0]) as running:
        yield running


@pytest.fixture(autouse=True)
def _nothing_written_yet() -> None:
    written.clear()


def _chunks(total: int, size: int = 1024) -> Iterator[bytes]:
    for start in range(0, total, size):
        yield b"x" * min(size, total - start)


def _assert_refused(response: httpx.Response, limit: int) -> dict[str, Any]:
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "body_too_large"
    assert error["details"]["limit_bytes"] == limit
    return error


def test_body_limit_declared_oversize_is_413_before_the_body_is_sent(served: ServedApp) -> None:
    head = (
        "POST /orders HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {200 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        sock.sendall(head.encode())  # and not one byte of the body: the answer must not wait for it
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            reply += data

    status_line, _, rest = reply.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413")
    body = rest.partition(b"\r\n\r\n")[2]
    assert b'"code":"body_too_large"' in body and b'"limit_bytes":4096' in body
    assert written == []


def test_body_limit_chunked_oversize_is_413_and_nothing_is_written(served: ServedApp) -> None:
    response = httpx.post(
        f"{served.url}/orders",
        content=_chunks(DEFAULT_LIMIT * 4),
        headers={"content-type": "application/json"},
    )

    error = _assert_refused(response, DEFAULT_LIMIT)
    assert error["details"]["received_bytes"] > DEFAULT_LIMIT
    assert written == []


def test_body_limit_streamed_route_stops_reading_at_its_family_limit(served: ServedApp) -> None:
    response = httpx.post(f"{served.url}/import", content=_chunks(IMPORT_LIMIT * 4, 4096))

    error = _assert_refused(response, IMPORT_LIMIT)
    assert error["details"]["setting"] == "body_limits.import_bytes"
    assert written == []


def test_body_limit_bodies_within_their_family_limit_pass(served: ServedApp) -> None:
    ordinary = httpx.post(f"{served.url}/orders", json={"comment": "x" * (DEFAULT_LIMIT - 100)})
    bulk = httpx.post(f"{served.url}/import", content=_chunks(IMPORT_LIMIT))

    assert ordinary.status_code == 200
    assert bulk.status_code == 200 and bulk.json() == {"bytes": IMPORT_LIMIT}


@pytest.mark.parametrize(
    ("service", "path", "family"),
    [
        ("pattern", "/indicators/compute", "bars"),
        ("ai", "/models/m-1/predict", "bars"),
        ("backtesting", "/walk-forward/", "bars"),
        ("data", "/import", "import"),
        ("data", "/gap-fill", "default"),
        ("mt5", "/orders/batch", "default"),
        ("backend-api", "/api/pattern/patterns/detect", "bars"),
        ("backend-api", "/api/data/import", "import"),
        ("backend-api", "/api/services/data/start", "default"),
        ("backend-api", "/api/nosuch/import", "default"),
    ],
)
def test_body_family_of_routes_and_of_the_gateway_routes_proxying_them(
    service: str, path: str, family: str
) -> None:
    assert body_family(service, path) == family
