"""A 200 MB body posted to the pattern service is refused without the service holding it in memory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.config import PROJECT_ROOT, PlatformSettings, load_config
from tests.support.platform import write_config
from tests.support.waits import wait_until

TOKEN = "memory-test-token"
BODY_BYTES = 200 * 1024 * 1024
# Lowered from the default (128 MiB) so the bound below also shows a chunked body is cut at the limit,
# rather than read whole, with room to spare.
BARS_LIMIT = 16 * 1024 * 1024
GROWTH_BOUND = 64 * 1024 * 1024

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@pytest.fixture(scope="module")
def pattern_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, int]]:
    """`python -m services.pattern` as its own process (so its peak memory is its own): a client and its pid."""
    config = write_config(
        tmp_path_factory.mktemp("memory"),
        overrides={"body_limits": {"bars_bytes": BARS_LIMIT}, "pattern": {"live": {"enabled": False}}},
    )
    port = load_config(config, model=PlatformSettings).service("pattern").port
    env = {**os.environ, "MT5P_CONFIG": str(config), "MT5P_INTERNAL_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "services.pattern"], cwd=PROJECT_ROOT, env=env)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"X-Internal-Token": TOKEN}, timeout=60
    )
    try:
        wait_until(lambda: _healthy(client, proc), 60, "the pattern service to answer /health")
        yield client, proc.pid
    finally:
        client.close()
        proc.terminate()
        proc.wait(15)


def _healthy(client: httpx.Client, proc: subprocess.Popen[bytes]) -> bool:
    assert proc.poll() is None, "the pattern service exited"
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def _peak_rss_bytes(pid: int) -> int:
    """The process's resident-memory high-water mark (VmHWM), which a brief peak cannot escape."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc status")


def _body(total: int = BODY_BYTES, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    block = b" " * chunk  # JSON whitespace: only its size matters
    for _ in range(total // chunk):
        yield block


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_pattern_200mb_body_is_refused_without_raising_peak_memory(
    pattern_service: tuple[httpx.Client, int], declared: bool
) -> None:
    client, pid = pattern_service
    before = _peak_rss_bytes(pid)
    headers = {"content-type": "application/json"}
    if declared:
        headers["content-length"] = str(BODY_BYTES)

    try:
        response = client.post("/indicators/compute", content=_body(), headers=headers)
    except httpx.WriteError:  # the service answered and closed while the client was still sending
        pytest.fail("the refusal was not readable")

    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    assert response.json()["error"]["details"]["limit_bytes"] == BARS_LIMIT
    grown = _peak_rss_bytes(pid) - before
    assert grown < GROWTH_BOUND, f"peak RSS grew by {grown / 2**20:.0f} MiB for a refused body"
