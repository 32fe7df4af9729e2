"""Paths and URLs the shell scripts need, from the validated config: `python -m services.backend_api.paths`.

Prints shell assignments (LOG_DIR, PID_FILE, HOST, PORT, CONFIG) or, with --dashboard-url, the URL that
signs the browser in. A configuration error is printed with the key and file, and the exit code is 2.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from shared.config import ConfigError, PlatformSettings, load_config, resolve_api_key


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dashboard-url", action="store_true", help="print the dashboard URL with its token")
    args = parser.parse_args()
    try:
        settings: PlatformSettings = load_config()
    except ConfigError as exc:
        print(f"echo {shlex.quote(str(exc))} >&2; exit 2")
        print(exc, file=sys.stderr)
        return 2
    section = settings.service("backend-api")
    if args.dashboard_url:
        print(f"{section.base_url}/?token={resolve_api_key(settings)}")
        return 0
    values = {
        "LOG_DIR": settings.log_dir,
        "PID_FILE": settings.log_dir / "backend-api.pid",
        "HOST": section.host,
        "PORT": section.port,
        "CONFIG": settings.config_file,
    }
    for key, value in values.items():
        print(f"{key}={shlex.quote(str(value))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
