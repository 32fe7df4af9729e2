"""scripts/fetch_dashboard_assets.py: locked npm tarballs, checked and extracted, served by a local registry
stand-in (an HTTP server on loopback), run as setup runs it (a separate Python process)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from shared.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "fetch_dashboard_assets.py"
VENDOR = PROJECT_ROOT / "services" / "backend_api" / "static" / "vendor"
BUNDLE = "dist/lightweight-charts.standalone.production.mjs"


def tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


class Registry:
    """Tarballs by path on 127.0.0.1, and every path asked for."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.requests.append(self.path)
                body = registry.files.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture()
def registry() -> Iterator[Registry]:
    served = Registry()
    yield served
    served.server.shutdown()
    served.server.server_close()


def write_lock(path: Path, registry: Registry, packages: dict[str, bytes], integrity: dict[str, str]) -> Path:
    entries = {}
    for name, data in packages.items():
        registry.files[f"/{name}.tgz"] = data
        entries[f"node_modules/{name}"] = {
            "version": "1.0.0",
            "resolved": f"{registry.url}/{name}.tgz",
            "integrity": integrity.get(name, sri(data)),
        }
    path.write_text(json.dumps({"lockfileVersion": 3, "packages": entries}))
    return path


def run(lock: Path, dest: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--lock", str(lock), "--dest", str(dest)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def packages() -> dict[str, bytes]:
    return {
        "lightweight-charts": tarball(
            {BUNDLE: b"export const v = 1;", "LICENSE": b"Apache", "README.md": b"x"}
        ),
    }


def test_fetch_assets_installs_only_the_bundle_and_licences_then_skips(
    tmp_path: Path, registry: Registry
) -> None:
    lock = write_lock(tmp_path / "package-lock.json", registry, packages(), {})
    dest = tmp_path / "vendor"

    first = run(lock, dest)
    second = run(lock, dest)

    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in (dest / "lightweight-charts").iterdir()) == [
        ".integrity",
        "LICENSE",
        "lightweight-charts.standalone.production.mjs",
    ]
    assert second.returncode == 0 and second.stdout == ""
    assert len(registry.requests) == 1  # the second run downloaded nothing


def test_fetch_assets_refuses_a_tarball_off_the_lock_and_writes_nothing(
    tmp_path: Path, registry: Registry
) -> None:
    lock = write_lock(
        tmp_path / "package-lock.json", registry, packages(), {"lightweight-charts": sri(b"another tarball")}
    )
    dest = tmp_path / "vendor"

    result = run(lock, dest)

    assert result.returncode == 1
    assert "lightweight-charts" in result.stderr and "integrity" in result.stderr
    assert not (dest / "lightweight-charts").exists()


def test_fetch_assets_unreachable_registry_says_which_package(tmp_path: Path, registry: Registry) -> None:
    lock = write_lock(tmp_path / "package-lock.json", registry, packages(), {})
    registry.files.clear()

    result = run(lock, tmp_path / "vendor")

    assert result.returncode == 1
    assert "cannot download" in result.stderr and "Traceback" not in result.stderr


def test_committed_lock_pins_every_wanted_package_with_sha512() -> None:
    lock = json.loads((VENDOR / "package-lock.json").read_text())["packages"]
    pinned = json.loads((VENDOR / "package.json").read_text())["dependencies"]

    assert lock["node_modules/lightweight-charts"]["version"] == pinned["lightweight-charts"]
    entry = lock["node_modules/lightweight-charts"]
    assert entry["integrity"].startswith("sha512-")
    assert entry["resolved"].startswith("https://registry.npmjs.org/lightweight-charts/")
