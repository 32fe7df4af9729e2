#!/usr/bin/env python3
"""Install the dashboard's browser libraries from the npm registry without Node: read the versions pinned
in services/backend_api/static/vendor/package-lock.json, download each locked tarball, check its sha512
`integrity`, and extract only the files the dashboard serves (plus their licences) into
services/backend_api/static/vendor/<package>/ (git-ignored). A package already installed from the same
tarball is skipped, so this runs on every setup. Standard library only: it runs before any venv exists.

Usage: python scripts/fetch_dashboard_assets.py [--lock PATH] [--dest DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "services" / "backend_api" / "static" / "vendor"
# What the dashboard loads from each locked package, as paths inside the npm tarball's `package/`.
# The standalone build bundles the one dependency (TradingView's fancy-canvas, MIT, whose tarball has no
# licence file: README's notice names it).
WANTED: dict[str, tuple[str, ...]] = {
    "lightweight-charts": ("dist/lightweight-charts.standalone.production.mjs", "LICENSE"),
}
# Written last into a package's directory: the integrity it was installed from.
STAMP = ".integrity"
DOWNLOAD_TIMEOUT_S = 60


class AssetError(Exception):
    """A package that cannot be installed: its message says which and why."""


def locked(lock_path: Path) -> dict[str, dict[str, str]]:
    """The lock's entry (version, resolved, integrity) of every wanted package."""
    try:
        packages = json.loads(lock_path.read_text(encoding="utf-8"))["packages"]
    except (OSError, ValueError, KeyError) as exc:
        raise AssetError(f"cannot read {lock_path}: {exc}") from exc
    entries = {}
    for name in WANTED:
        entry = packages.get(f"node_modules/{name}")
        if not entry or not all(k in entry for k in ("version", "resolved", "integrity")):
            raise AssetError(f"{lock_path} does not lock {name} with version, resolved and integrity")
        entries[name] = entry
    return entries


def check_integrity(name: str, data: bytes, integrity: str) -> None:
    """Refuse a tarball whose sha512 is not the lock's (npm's Subresource Integrity form)."""
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise AssetError(f"{name}: the lock's integrity is {algorithm}, only sha512 is accepted")
    actual = base64.b64encode(hashlib.sha512(data).digest()).decode()
    if actual != expected:
        raise AssetError(
            f"{name}: the downloaded tarball does not match the lock's integrity; nothing installed"
        )


def is_installed(target: Path, entry: dict[str, str], files: tuple[str, ...]) -> bool:
    stamp = target / STAMP
    return (
        stamp.is_file()
        and stamp.read_text(encoding="utf-8").strip() == entry["integrity"]
        and all((target / Path(f).name).is_file() for f in files)
    )


def download(name: str, url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            data: bytes = response.read()
            return data
    except OSError as exc:
        raise AssetError(f"{name}: cannot download {url}: {exc}") from exc


def extract(name: str, data: bytes, files: tuple[str, ...], target: Path) -> None:
    """Only the named members, flattened into `target`, replacing it whole (never half-written)."""
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the files from a server running as another user
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in files:
                try:
                    source = archive.extractfile(f"package/{member}")
                except KeyError:
                    source = None
                if source is None:
                    raise AssetError(f"{name}: the tarball has no package/{member}")
                (staging / Path(member).name).write_bytes(source.read())
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    except (tarfile.TarError, OSError) as exc:
        raise AssetError(f"{name}: cannot extract the tarball: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install(lock_path: Path, dest: Path) -> list[str]:
    """Install every wanted package not already installed from its locked tarball; the ones installed."""
    dest.mkdir(parents=True, exist_ok=True)
    done = []
    for name, entry in locked(lock_path).items():
        files, target = WANTED[name], dest / name
        if is_installed(target, entry, files):
            continue
        data = download(name, entry["resolved"])
        check_integrity(name, data, entry["integrity"])
        extract(name, data, files, target)
        (target / STAMP).write_text(entry["integrity"] + "\n", encoding="utf-8")
        done.append(f"{name}@{entry['version']}")
    return done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lock", type=Path, default=VENDOR / "package-lock.json")
    parser.add_argument("--dest", type=Path, default=VENDOR)
    args = parser.parse_args(argv)
    try:
        done = install(args.lock, args.dest)
    except AssetError as exc:
        print(f"dashboard assets: {exc}", file=sys.stderr)
        return 1
    if done:
        print(f"dashboard assets installed: {', '.join(done)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
