"""Running the real platform in tests: a temp config on free ports, backend-api as a real process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from shared.config import PROJECT_ROOT, SERVICE_NAMES
from tests.support.waits import wait_until

API_KEY = "test-api-key-0123456789"


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def write_config(
    directory: Path,
    *,
    overrides: dict[str, Any] | None = None,
    modules: dict[str, str] | None = None,
    replace: dict[str, Any] | None = None,
) -> Path:
    """A config.json in `directory` with every service on a free port; sections merged from `overrides`,
    or swapped whole for those in `replace` (so a test sees a section's code defaults, not the shipped file's)."""
    config = json.loads((PROJECT_ROOT / "config.json").read_text())
    for name, port in zip(SERVICE_NAMES, free_ports(len(SERVICE_NAMES)), strict=True):
        config["services"][name]["port"] = port
    for name, module in (modules or {}).items():
        config["services"][name]["module"] = module
    config["system"]["environment"] = "test"
    config["orchestrator"].update({"stop_timeout_s": 5})
    for section, values in (overrides or {}).items():
        config.setdefault(section, {}).update(values)
    config.update(replace or {})
    path = directory / "config.json"
    path.write_text(json.dumps(config, indent=2))
    return path


class Platform:
    """backend-api started as `python -m services.backend_api` on a temp config."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.data = json.loads(config.read_text())
        self.env = {**os.environ, "MT5P_CONFIG": str(config), "API_KEY": API_KEY, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url(), headers={"X-API-Key": API_KEY}, timeout=10)

    def url(self, name: str = "backend-api") -> str:
        return f"http://127.0.0.1:{self.data['services'][name]['port']}"

    def start(self) -> Platform:
        log = open(self.config.parent / "backend-api.stdout", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.backend_api"],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        return self

    def statuses(self) -> dict[str, dict[str, Any]]:
        try:
            response = self.http.get("/api/services")
        except httpx.HTTPError:
            return {}
        return {s["name"]: s for s in response.json()} if response.status_code == 200 else {}

    def wait_state(self, name: str, state: str, timeout: float = 30) -> dict[str, Any]:
        return wait_until(
            lambda: (s := self.statuses().get(name)) and s["state"] == state and s,
            timeout,
            f"{name} to be {state}; last: {self.statuses().get(name)}",
        )

    def wait_all_online(self, timeout: float = 60) -> dict[str, dict[str, Any]]:
        """All seven ONLINE and the hub following every child's event stream."""

        def ready() -> dict[str, dict[str, Any]] | None:
            try:
                body = self.http.get("/api/status").json()
            except (httpx.HTTPError, ValueError):
                return None
            online = all(s["state"] == "ONLINE" for s in body.get("services", []))
            relayed = all(body.get("hub", {}).get("upstreams", {}).values())
            return (
                {s["name"]: s for s in body["services"]} if online and relayed and body["services"] else None
            )

        return wait_until(
            ready,
            timeout,
            f"all services ONLINE; last: {[(k, v['state']) for k, v in self.statuses().items()]}",
        )

    def internal_token(self) -> str:
        return (self.config.parent / "database" / ".internal_token").read_text().strip()

    def stop(self) -> None:
        self.http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def children_of_config(config: Path) -> list[int]:
    """Pids of live processes whose environment points at `config` (ours, from this test)."""
    pids = []
    needle = f"MT5P_CONFIG={config}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                stat = (entry / "stat").read_text()
                if not stat.split(") ")[-1].startswith("Z"):
                    pids.append(int(entry.name))
    return pids
