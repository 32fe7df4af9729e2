"""A throwaway PostgreSQL server from Debian's `postgresql` package, on a temp directory and a free port."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import make_url

from tests.support.platform import free_ports

START_TIMEOUT_S = 30.0


def postgres_bin_dir() -> Path | None:
    """The newest installed server's bin folder (/usr/lib/postgresql/<major>/bin), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def skip_reason() -> str | None:
    """Why the server cannot run here, or None. On CI run_tests.sh installs it: a missing server fails there."""
    if os.environ.get("CI") == "true":
        return None
    if postgres_bin_dir() is None:
        return "PostgreSQL server missing (apt-get install postgresql; run_tests.sh does it as root)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: cannot start PostgreSQL as an unprivileged user"
    return None


def _as_server_user(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root, so root runs them as the package's `postgres` user.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str]) -> None:
    result = subprocess.run(_as_server_user(argv), capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({result.returncode}): {result.stderr or result.stdout}")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a server and yield the URL of its `postgres` database (psycopg 3); stop and delete on exit."""
    bin_dir = postgres_bin_dir()
    assert bin_dir is not None, skip_reason()
    root = Path(tempfile.mkdtemp(prefix="mt5p-pg-"))
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    (port,) = free_ports(1)
    server: subprocess.Popen[bytes] | None = None
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        server = subprocess.Popen(
            _as_server_user(
                [
                    str(bin_dir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-k",
                    str(sockets),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",  # a test database: durability across power loss is not under test
                ]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        ready = [str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        while subprocess.run(ready, capture_output=True).returncode != 0:
            if server.poll() is not None or time.monotonic() > deadline:
                err = server.stderr.read().decode() if server.stderr and server.poll() is not None else ""
                raise RuntimeError(f"PostgreSQL did not become ready on port {port}: {err}")
            time.sleep(0.05)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        if server is not None:
            server.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown; runuser forwards it
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(root, ignore_errors=True)


def create_database(server_url: str, name: str) -> str:
    """Create database `name` on the server behind `server_url`; returns its SQLAlchemy URL."""
    url = make_url(server_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # a test-chosen identifier, not user input
    return url.set(database=name).render_as_string(hide_password=False)
