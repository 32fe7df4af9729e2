"""The `mt5p` command: start | stop | status | logs | test."""

from __future__ import annotations

import argparse
import subprocess
import sys

from launcher import control, health, logs
from shared.config import PROJECT_ROOT, SERVICE_NAMES


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mt5p", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("start", help="start the platform and wait until every service is healthy")
    commands.add_parser("stop", help="stop everything start started")
    health.add_arguments(commands.add_parser("status", help="health report of the seven services"))
    log_cmd = commands.add_parser("logs", help="the end of a service's log")
    log_cmd.add_argument("service", nargs="?", default="backend-api", choices=SERVICE_NAMES)
    log_cmd.add_argument("-n", "--lines", type=int, default=50, help="how many lines (default 50)")
    log_cmd.add_argument("-f", "--follow", action="store_true", help="keep printing what is appended")
    log_cmd.add_argument("--console", action="store_true", help="the console log (crashes at start)")
    commands.add_parser("test", help="run the test suite (arguments go to pytest)", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["test"]:
        # Everything after `test` is pytest's, --help included: run_tests.sh's pytest step.
        return subprocess.call([sys.executable, "-m", "pytest", *argv[1:]], cwd=PROJECT_ROOT)
    args = _parser().parse_args(argv)
    if args.command == "start":
        return control.start()
    if args.command == "stop":
        return control.stop()
    if args.command == "status":
        return health.report(args)
    paths = control.load_paths()
    if paths is None:
        return 2
    suffix = ".console.log" if args.console else ".log"
    return logs.show(paths.log_dir / f"{args.service}{suffix}", max(args.lines, 0), args.follow)
