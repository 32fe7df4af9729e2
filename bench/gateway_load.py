"""Gateway under a burst: N concurrent `GET /api/mt5/account` through backend-api vs straight to mt5.

Run: .venv/bin/python bench/gateway_load.py [--requests 500] [--rounds 3]
Starts the platform on free ports in a temp dir (loopback only), fires each burst at once (one connection
per request, as N separate clients would), and prints successes, latency p50/p99 and the ratio of the
gateway's p50 to the direct one's. Every request has a 60 s bound.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.platform import API_KEY, Platform, write_config


async def burst(url: str, headers: dict[str, str], count: int) -> tuple[Counter[str], list[float]]:
    """`count` requests at once; the outcome of each (status or error) and the seconds each took."""
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as http:

        async def one() -> tuple[str, float]:
            started = time.perf_counter()
            try:
                outcome = str((await http.get(url)).status_code)
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            return outcome, time.perf_counter() - started

        results = await asyncio.gather(*(one() for _ in range(count)))
    return Counter(o for o, _ in results), sorted(t for _, t in results)


def describe(label: str, outcomes: Counter[str], times: list[float]) -> tuple[float, str]:
    p50, p99 = times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000
    others = ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items()) if k != "200")
    line = f"{label}: {outcomes['200']}/{len(times)} succeeded{f' ({others})' if others else ''}, "
    return p50, line + f"p50 {p50:.0f} ms, p99 {p99:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform(write_config(Path(tmp))).start()
        try:
            platform.wait_all_online(120)
            gateway_url, direct_url = f"{platform.url()}/api/mt5/account", f"{platform.url('mt5')}/account"
            direct_headers = {"X-Internal-Token": platform.internal_token()}
            for n in range(1, args.rounds + 1):
                direct_p50, direct = describe(
                    "direct ", *asyncio.run(burst(direct_url, direct_headers, args.requests))
                )
                gateway_p50, gateway = describe(
                    "gateway", *asyncio.run(burst(gateway_url, {"X-API-Key": API_KEY}, args.requests))
                )
                print(f"round {n}, {args.requests} concurrent GET /account")
                print(f"  {direct}\n  {gateway}\n  gateway/direct p50: {gateway_p50 / direct_p50:.2f}x")
        finally:
            platform.stop()


if __name__ == "__main__":
    main()
