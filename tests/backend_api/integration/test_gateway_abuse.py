"""The gateway under abuse, with real processes: found by an adversarial test of the running platform."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.backend_api.integration.conftest import FAST_HEALTH
from tests.support.platform import API_KEY, Platform, write_config
from tests.support.waits import wait_until

AUTH_MAX_FAILURES = 5
AUTH_WINDOW_S = 3.0
HEAD_TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    """A platform of its own: its throttle and head timeout are short, and throttling 127.0.0.1 must not
    reach other modules' tests."""
    directory: Path = tmp_path_factory.mktemp("abuse")
    config = write_config(
        directory,
        overrides={
            "orchestrator": {
                **FAST_HEALTH,
                "auth_max_failures": AUTH_MAX_FAILURES,
                "auth_failure_window_s": AUTH_WINDOW_S,
            },
            "system": {"request_head_timeout_s": HEAD_TIMEOUT_S},
            "monitoring": {"heartbeat_interval_s": 0.2},
        },
        modules={"ai": "tests.support.emitter_service"},
    )
    running = Platform(config).start()
    try:
        running.wait_all_online(60)
        yield running
    finally:
        running.stop()


def _error(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


def _log(platform: Platform) -> str:
    return (platform.config.parent / "logs" / "backend-api.log").read_text(errors="replace")


# Finding 5: the raw path had no "/" after the service, so splitting it failed with a 500.
def test_gateway_encoded_slash_after_the_service_is_404(platform: Platform) -> None:
    for path in ("/api/mt5%2Fhealth", "/api/mt5%2fhealth", "/api/mt5%2F"):
        response = platform.http.get(path)

        assert response.status_code == 404, path
        assert _error(response)["code"] == "unknown_service"


# Finding 10: a CR/LF in the path wrote a forged line into backend-api.log, without a key.
def test_request_logging_escapes_control_characters(platform: Platform) -> None:
    forged = "%0D%0A2099-01-01%2000:00:00,000%20CRITICAL%20forged-entry"
    assert httpx.get(f"{platform.url()}/static/x{forged}").status_code == 404
    assert httpx.get(f"{platform.url()}/api/data/x{forged}").status_code == 401
    assert platform.http.get(f"/api/data/x{forged}").status_code == 404

    wait_until(lambda: _log(platform).count("forged-entry") >= 2, 10, "the requests logged")
    lines = _log(platform).splitlines()
    assert not [line for line in lines if line.startswith("2099")]
    assert any("\\r\\n2099-01-01 00:00:00,000 CRITICAL forged-entry" in line for line in lines)


# Finding 13: `date`/`server` twice, headers named in `Connection` passed on, repeated headers collapsed.
def test_gateway_keeps_repeated_headers_and_drops_hop_by_hop_ones(platform: Platform) -> None:
    response = platform.http.get(
        "/api/ai/headers", headers={"Connection": "keep-alive, x-client-hop", "X-Client-Hop": "secret"}
    )

    assert response.status_code == 200
    received = response.json()
    assert "x-client-hop" not in received
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert len(response.headers.get_list("date")) == 1
    assert len(response.headers.get_list("server")) <= 1
    assert "x-hop" not in response.headers


# Finding 12: a trailing slash answered `307 Location: http://127.0.0.1:<child port>/...`.
def test_gateway_redirect_stays_on_the_gateway(platform: Platform) -> None:
    response = platform.http.get("/api/mt5/account/", params={"a": "1"})

    assert response.status_code in (301, 302, 303, 307, 308, 404)
    if response.is_redirect:
        location = response.headers["location"]
        assert str(platform.data["services"]["mt5"]["port"]) not in location
        assert location == "/api/mt5/account?a=1"
        followed = platform.http.get(location)
        assert followed.status_code == 200 and "balance" in followed.json()


# Finding 15a: a half-sent request head held a connection (and a server slot) for as long as the client liked.
@pytest.mark.parametrize("service", ["backend-api", "data"])
def test_server_closes_a_connection_whose_request_head_never_completes(
    platform: Platform, service: str
) -> None:
    port = platform.data["services"][service]["port"]
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sock.settimeout(HEAD_TIMEOUT_S + 20)
        received = b""
        while chunk := sock.recv(4096):  # raises TimeoutError if the server keeps the connection open
            received += chunk

    assert b"200 OK" not in received


def test_head_timeout_leaves_websockets_and_keep_alive_requests_alone(platform: Platform) -> None:
    async def listen() -> int:
        uri = f"ws://127.0.0.1:{platform.data['services']['backend-api']['port']}/ws/events?token={API_KEY}"
        messages = 0
        async with websockets.connect(uri) as ws:
            loop = asyncio.get_running_loop()
            until = loop.time() + HEAD_TIMEOUT_S * 3
            while loop.time() < until:
                await asyncio.wait_for(ws.recv(), 5)  # heartbeats every 0.2 s; a closed socket raises
                messages += 1
        return messages

    assert asyncio.run(listen()) > 3
    with httpx.Client(base_url=platform.url(), headers={"X-API-Key": API_KEY}) as http:
        assert [http.get("/api/status").status_code for _ in range(3)] == [200, 200, 200]


# Finding 11: 2,000 wrong keys at 176/s were neither logged nor slowed down. Last in this module: it makes
# 127.0.0.1 wait out the window.
def test_failed_authentications_are_logged_and_throttled(platform: Platform) -> None:
    url = f"{platform.url()}/api/data/health"
    wrong = {"X-API-Key": "wrong-key-guess-42"}

    statuses = [httpx.get(url, headers=wrong).status_code for _ in range(AUTH_MAX_FAILURES + 1)]
    refused = httpx.get(url, headers=wrong)
    right_key_meanwhile = httpx.get(url, headers={"X-API-Key": API_KEY})

    assert statuses[0] == 401 and 429 in statuses
    assert refused.status_code == 429 and _error(refused)["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= AUTH_WINDOW_S + 1
    assert right_key_meanwhile.status_code == 429
    log = _log(platform)
    logged = [line for line in log.splitlines() if "failed authentication" in line]
    assert any("from 127.0.0.1" in line and "GET /api/data/health" in line for line in logged)
    assert len(logged) < AUTH_MAX_FAILURES + 2  # aggregated, not a line per guess
    assert "wrong-key-guess-42" not in log
    wait_until(
        lambda: httpx.get(url, headers={"X-API-Key": API_KEY}).status_code == 200,
        AUTH_WINDOW_S + 10,
        "the right key accepted again once the window has passed",
    )
