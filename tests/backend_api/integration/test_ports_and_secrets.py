"""A port held by a foreign process, and secrets kept out of logs and responses."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.platform import API_KEY, Platform, write_config

MT5_PASSWORD = "pw-never-shown-7f3a9"


@pytest.fixture(scope="module")
def blocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Platform, int]]:
    directory: Path = tmp_path_factory.mktemp("blocked")
    config = write_config(directory)
    platform = Platform(config, env={"MT5_PASSWORD": MT5_PASSWORD, "MT5_LOGIN": "1234567"})
    port = platform.data["services"]["pattern"]["port"]
    foreign = socket.socket()
    foreign.bind(("127.0.0.1", port))
    foreign.listen()
    platform.start()
    try:
        platform.wait_state("pattern", "ERROR", 30)
        for name in ("data", "mt5", "strategy", "ai", "backtesting"):
            platform.wait_state(name, "ONLINE", 30)
        yield platform, port
    finally:
        platform.stop()
        foreign.close()


def test_port_held_by_foreign_process_is_error_naming_the_port_and_others_start(
    blocked: tuple[Platform, int],
) -> None:
    platform, port = blocked
    pattern = platform.statuses()["pattern"]
    assert pattern["state"] == "ERROR" and f"port {port}" in pattern["last_error"]
    assert platform.http.get("/api/status").json()["status"] == "degraded"
    refused = platform.http.get("/api/pattern/health")
    assert refused.status_code == 503 and f"port {port}" in refused.json()["error"]["message"]


def test_secrets_never_appear_in_logs_or_responses(blocked: tuple[Platform, int]) -> None:
    platform, _ = blocked
    http = httpx.Client(base_url=platform.url(), timeout=10)
    responses = [
        http.get("/api/status", headers={"X-API-Key": API_KEY}),
        http.get("/api/status", headers={"X-API-Key": API_KEY[:-1]}),
        http.get("/api/status", params={"token": API_KEY}),
        http.get("/api/mt5/health", headers={"Authorization": f"Bearer {API_KEY}"}),
        http.get("/api/services/mt5/logs", params={"lines": 500}, headers={"X-API-Key": API_KEY}),
        http.get(
            "/api/services/backend-api/logs",
            params={"lines": 500, "source": "console"},
            headers={"X-API-Key": API_KEY},
        ),
        http.get("/openapi.json", headers={"X-API-Key": API_KEY}),
    ]
    for response in responses:
        assert API_KEY not in response.text and MT5_PASSWORD not in response.text
    token = platform.internal_token()
    log_dir = platform.config.parent / "logs"
    logs = {p.name: p.read_text(errors="replace") for p in log_dir.glob("*.log")}
    assert logs, "no logs written"
    for name, text in logs.items():
        assert API_KEY not in text, name
        assert MT5_PASSWORD not in text, name
        assert token not in text, name
