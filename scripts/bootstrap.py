#!/usr/bin/env python3
"""First run: create .venv and install the project (with extras) when missing or when pyproject.toml changed.

Standard library only: it runs with the system Python, before the venv exists, on every OS.
Usage: python scripts/bootstrap.py [extras] [--run ARGS...]
  e.g. python scripts/bootstrap.py test
       python scripts/bootstrap.py --run -m launcher start   (then runs .venv's python with ARGS)
The install log is .venv/install.log; .venv/.installed-<extras> holds the sha256 of the pyproject.toml
it installed, so an unchanged project is not installed again.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
INSTALL_LOG = VENV / "install.log"
MIN_PYTHON = (3, 11)


def venv_python(venv: Path = VENV) -> Path:
    """The venv's interpreter: Scripts\\python.exe on Windows, bin/python elsewhere."""
    if sys.platform == "win32":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def stamp_path(extras: str) -> Path:
    return VENV / ".installed-{}".format((extras or "base").replace(",", "-"))


def pyproject_sha256() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def installed(extras: str, want: str) -> bool:
    """An install with more extras (e.g. "test") also satisfies a plain install of the same pyproject."""
    for stamp in VENV.glob(".installed-*"):
        try:
            same = stamp.read_text().strip() == want
        except OSError:
            continue
        if same and (stamp == stamp_path(extras) or not extras):
            return True
    return False


def create_venv() -> bool:
    if sys.version_info < MIN_PYTHON:
        found = "Python " + ".".join(str(n) for n in sys.version_info[:3])
        print(f"Python 3.11 or newer is needed (found: {found})", file=sys.stderr)
        return False
    print("Creating .venv with Python {}.{}.{}".format(*sys.version_info[:3]), flush=True)
    return subprocess.call([sys.executable, "-m", "venv", str(VENV)]) == 0


def install(extras: str, want: str) -> bool:
    spec = f".[{extras}]" if extras else "."
    print(
        f"Installing the project into .venv ({spec}); the first time takes a minute or two",
        flush=True,
    )
    python = str(venv_python())
    steps = (
        [python, "-m", "pip", "install", "--upgrade", "pip"],
        [python, "-m", "pip", "install", "-e", spec],
    )
    with open(INSTALL_LOG, "wb") as log:
        ok = all(subprocess.call(step, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT) == 0 for step in steps)
    if not ok:
        lines = INSTALL_LOG.read_text(encoding="utf-8", errors="replace").splitlines()
        print("\n".join(lines[-30:]), file=sys.stderr)
        print(f"installation failed; the whole pip output is in {INSTALL_LOG}", file=sys.stderr)
        return False
    stamp_path(extras).write_text(want + "\n")
    return True


# The dashboard's third-party files (the charting library) come from the npm registry through their own
# stdlib script, which checks each tarball against the lock and skips what is already installed. Without them
# only the charts are missing (they say what to run), so a failed fetch warns and the platform still starts.
DASHBOARD_ASSETS_SCRIPT = ROOT / "scripts" / "fetch_dashboard_assets.py"


def fetch_dashboard_assets() -> None:
    if subprocess.call([sys.executable, str(DASHBOARD_ASSETS_SCRIPT)], cwd=ROOT) != 0:
        print("the dashboard's charts stay unavailable until the fetch above succeeds", file=sys.stderr)


def bootstrap(extras: str) -> bool:
    if not venv_python().is_file() and not create_venv():
        return False
    want = pyproject_sha256()
    if not installed(extras, want) and not install(extras, want):
        return False
    fetch_dashboard_assets()
    return True


def main(argv: list[str]) -> int:
    run = None
    if "--run" in argv:
        at = argv.index("--run")
        argv, run = argv[:at], argv[at + 1 :]
    if len(argv) > 1 or any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    if not bootstrap(argv[0] if argv else ""):
        return 1
    if run is None:
        return 0
    command = [str(venv_python()), *run]
    if sys.platform == "win32":
        return subprocess.call(command, cwd=ROOT)
    os.chdir(ROOT)
    os.execv(command[0], command)  # the same process: signals and exit code are the command's own


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
