"""Schemathesis against every service's OpenAPI schema: no 5xx, every response as documented, no traceback.

Each service is fuzzed on its own port with the services it calls served beside it; then, on a real
platform, data's and pattern's schemas through the gateway, and the gateway's own route. Each run is
schemathesis' CLI (settings in `schemathesis.toml` beside this file: deterministic, 25 examples per
operation, every check), so a failure reproduces by hand with the command its message prints. The CLI,
because schemathesis' pytest plugin cannot load a schema from a fixture under pytest 9.2
(`Function._nodeid` is gone), and a schema loaded at import would need every app built at collection.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.config import PROJECT_ROOT
from tests.acceptance.conftest import SERVICES, ServedPlatform
from tests.support.platform import API_KEY, Platform, write_config

pytestmark = pytest.mark.slow

CONFIG_FILE = Path(__file__).with_name("schemathesis.toml")
# Per service: operations left out, each with its reason. Everything else is fuzzed.
DIRECT_OPTIONS: dict[str, list[str]] = {
    # Takes no input, and would leave the terminal down (503 by design) for every later call.
    "mt5": ["--exclude-path", "/disconnect"],
    # The gateway needs all seven services up: it is fuzzed through the real platform below.
    "backend-api": ["--exclude-path-regex", r"^/api/\{service\}/"],
}
# Through a real platform's gateway: two children's schemas, and the gateway's own route with all seven up.
GATEWAY_RUNS = {
    "data": ("/api/data", []),
    "pattern": ("/api/pattern", []),
    "gateway": ("", ["--include-path-regex", r"^/api/\{service\}/"]),
}


def schemathesis_run(schema_url: str, base_url: str, headers: dict[str, str], *options: str) -> None:
    """Fuzz the schema at `schema_url`, calling `base_url`; fail with schemathesis' report if it finds anything."""
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG_FILE), "run", schema_url]
    command += ["--url", base_url, *options]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"{' '.join(command)}\nfound problems:\n{done.stdout}\n{done.stderr}"


@pytest.mark.parametrize("service_name", [s.name for s in SERVICES])
def test_service_api_fuzzed_answers_as_documented(served_platform: ServedPlatform, service_name: str) -> None:
    served = served_platform.serve(service_name)
    headers = served_platform.headers[service_name]

    schemathesis_run(f"{served.url}/openapi.json", served.url, headers, *DIRECT_OPTIONS.get(service_name, []))


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(write_config(tmp_path_factory.mktemp("gateway-fuzz"))).start()
    try:
        running.wait_all_online()
        yield running
    finally:
        running.stop()


@pytest.mark.integration
@pytest.mark.parametrize("run", list(GATEWAY_RUNS))
def test_gateway_fuzzed_answers_as_documented(platform: Platform, run: str) -> None:
    prefix, options = GATEWAY_RUNS[run]
    base = f"{platform.url()}{prefix}"

    schemathesis_run(f"{base}/openapi.json", base, {"X-API-Key": API_KEY}, *options)
