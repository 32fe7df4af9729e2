"""The request-head deadline, on a real uvicorn server with each event loop it may run on."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from shared.http_protocol import with_head_timeout
from tests.support.waits import wait_until

HEAD_TIMEOUT_S = 0.3


async def ok(_request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def block(_request: object) -> PlainTextResponse:
    time.sleep(HEAD_TIMEOUT_S * 4)  # the whole loop busy, as under a burst on a loaded machine
    return PlainTextResponse("blocked")


@pytest.fixture(params=["asyncio", "uvloop"])
def server(request: pytest.FixtureRequest) -> Iterator[int]:
    app = Starlette(routes=[Route("/ok", ok), Route("/block", block)])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        loop=request.param,
        log_config=None,
        access_log=False,
        http=with_head_timeout(HEAD_TIMEOUT_S),
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_until(lambda: running.started, 10, "the server up")
    port = running.servers[0].sockets[0].getsockname()[1]
    yield port
    running.should_exit = True
    thread.join(10)


def _get(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    received = b""
    while chunk := sock.recv(4096):
        received += chunk
    return received


def test_a_head_that_never_completes_is_cut_off(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server)) as sock:
        sock.sendall(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sock.settimeout(HEAD_TIMEOUT_S + 10)
        started = time.monotonic()
        assert sock.recv(4096) == b""  # closed by the server, with no response
        assert time.monotonic() - started < HEAD_TIMEOUT_S + 5


def test_a_head_that_arrived_while_the_server_was_busy_is_answered(server: int) -> None:
    """The client sent in time; the server read late. Its own lag is not the client's fault."""
    late_reader = socket.create_connection(("127.0.0.1", server))
    with socket.create_connection(("127.0.0.1", server)) as probe:
        assert b"200 OK" in _get(probe, "/ok")  # accepted after `late_reader`: its clock is running
    blocker = socket.create_connection(("127.0.0.1", server))
    blocker.sendall(b"GET /block HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    time.sleep(HEAD_TIMEOUT_S / 3)  # the loop is now asleep in /block
    with late_reader, blocker:
        late_reader.settimeout(10)
        assert b"200 OK" in _get(late_reader, "/ok")
