"""One platform service as a real process on a free port, for the benchmarks that time its HTTP API."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from shared.config import PROJECT_ROOT

TOKEN = "bench-internal-token"


@contextmanager
def service_process(
    name: str, config: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[httpx.Client, float]]:
    """`python -m services.<name>` on `config` (plus `env`), logging warnings only; yields a client sending
    the internal token and the seconds from launch to a healthy answer."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = {
        **os.environ,
        "MT5P_CONFIG": str(config),
        "MT5P_PORT": str(port),
        "MT5P_INTERNAL_TOKEN": TOKEN,
        "MT5P_SYSTEM__LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=PROJECT_ROOT, env=environment)
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"X-Internal-Token": TOKEN}, timeout=60
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the {name} service did not start")
            time.sleep(0.02)
        yield client, time.perf_counter() - started
    finally:
        client.close()
        proc.terminate()
        proc.wait(15)
