"""Health report of all seven services: a table (name, port, state, latency, detail), or --json.

Exit code 0 when every service is healthy, 1 otherwise (2 on a configuration error). With --wait N it
polls for up to N seconds until all are healthy (used by `mt5p start`). `mt5p status` and
`python test_services.py` print it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

import httpx

from shared.config import SERVICE_NAMES, ConfigError, PlatformSettings, load_config, resolve_api_key


async def _probe(client: httpx.AsyncClient, name: str, url: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        response = await client.get(f"{url}/health")
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        body = response.json() if response.status_code == 200 else {}
        detail = body.get("status", f"HTTP {response.status_code}")
        failing = [
            k for k, v in body.get("checks", {}).items() if isinstance(v, dict) and not v.get("ok", True)
        ]
        if failing:
            detail += f" ({', '.join(failing)})"
        return {
            "healthy": response.status_code == 200,
            "latency_ms": latency_ms,
            "detail": detail,
            "pid": body.get("pid"),
        }
    except httpx.HTTPError as exc:
        return {
            "healthy": False,
            "latency_ms": None,
            "detail": f"unreachable ({type(exc).__name__})",
            "pid": None,
        }


async def collect(settings: PlatformSettings) -> list[dict[str, Any]]:
    """One row per service: health probed directly, state as the supervisor sees it (when reachable)."""
    states: dict[str, dict[str, Any]] = {}
    gateway = settings.service("backend-api").base_url
    async with httpx.AsyncClient(timeout=settings.orchestrator.health_timeout_s) as client:
        try:
            response = await client.get(
                f"{gateway}/api/status", headers={"X-API-Key": resolve_api_key(settings)}
            )
            if response.status_code == 200:
                states = {s["name"]: s for s in response.json()["services"]}
        except httpx.HTTPError:
            pass
        names = list(SERVICE_NAMES)
        probes = await asyncio.gather(*(_probe(client, n, settings.service(n).base_url) for n in names))
    rows = []
    for name, probe in zip(names, probes, strict=True):
        status = states.get(name, {})
        state = status.get("state") or ("ONLINE" if probe["healthy"] else "UNKNOWN")
        detail = (
            probe["detail"] if not status.get("last_error") or state == "ONLINE" else status["last_error"]
        )
        rows.append(
            {
                "name": name,
                "port": settings.service(name).port,
                "state": state,
                "healthy": probe["healthy"] and state == "ONLINE",
                "latency_ms": probe["latency_ms"],
                "pid": probe["pid"],
                "detail": detail,
            }
        )
    return rows


def render(rows: list[dict[str, Any]]) -> str:
    header = f"{'service':<12} {'port':>5}  {'state':<9} {'latency':>9}  detail"
    lines = [header, "-" * len(header)]
    for r in rows:
        latency = f"{r['latency_ms']:.1f} ms" if r["latency_ms"] is not None else "-"
        lines.append(f"{r['name']:<12} {r['port']:>5}  {r['state']:<9} {latency:>9}  {r['detail']}")
    healthy = sum(r["healthy"] for r in rows)
    lines.append(f"{healthy}/{len(rows)} services healthy")
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS", help="poll until all are healthy"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing; only the exit code")
    parser.add_argument("--config", default=None, help="config file (default: $MT5P_CONFIG or ./config.json)")


def report(args: argparse.Namespace) -> int:
    """Print (unless quiet) the report; 0 when every service is healthy."""
    try:
        settings: PlatformSettings = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    deadline = time.monotonic() + args.wait
    while True:
        rows = asyncio.run(collect(settings))
        ok = all(r["healthy"] for r in rows)
        if ok or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if not args.quiet:
        print(json.dumps({"healthy": ok, "services": rows}, indent=2) if args.json else render(rows))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return report(parser.parse_args(argv))
