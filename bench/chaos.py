"""Chaos soak benchmark: the acceptance test's scenario for minutes, with every outage and its recovery.

Run: .venv/bin/python bench/chaos.py [--seconds 150] [--seed N] [--speed 120] [--gap 1 4]

The whole platform runs from a temp config (fast health checks: every 0.5 s, 2 failures; backoff from
0.2 s) with the mt5 simulated terminal on a replay clock at `speed`, the data service collecting EURUSD
and USDJPY, and two sma_crossover(2, 5) instances trading them on M1. Every `gap` seconds (uniform) a
random ONLINE child gets `kill -9` or SIGSTOP (left stopped: the supervisor must find it hung). Printed:
each outage (service, kind, time since the chaos began, down and back as the hub reported them), the
recovery time (signal -> ONLINE on the hub) p50/max overall and per kind, and the checks of the test.
Exit status 1 when a check fails.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.chaos import KINDS, ChaosRun, chaos_platform, recovery_summary, soak


def print_run(run: ChaosRun, began: float) -> bool:
    """Print the outages, recovery times and checks; True when every check passed."""
    print(f"{'t (s)':>7}  {'service':<12}{'kind':<6}{'down (s)':>9}{'back (s)':>9}")
    for o in run.outages:
        down = f"{o.down_at - o.at:.2f}" if o.down_at is not None else "-"
        back = f"{o.recovery_s:.2f}" if o.recovery_s is not None else "-"
        print(f"{o.at - began:7.1f}  {o.service:<12}{o.kind:<6}{down:>9}{back:>9}")
    print(f"\n{len(run.outages)} outages; {recovery_summary(run.outages)}")
    for kind in KINDS:
        times = sorted(o.recovery_s for o in run.outages if o.kind == kind and o.recovery_s is not None)
        if times:
            print(
                f"  {kind:<5} n={len(times):<3} p50 {statistics.median(times):.2f} s  max {times[-1]:.2f} s"
            )
    print("\nchecks:")
    checks = run.checks()
    for name, found in checks.items():
        print(f"  {'FAIL' if found else 'ok  '} {name}" + (f": {found}" if found else ""))
    return not any(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=150, help="length of the chaos (s)")
    parser.add_argument("--seed", type=int, default=None, help="replay a run (default: random)")
    parser.add_argument("--speed", type=float, default=120, help="replay clock speed")
    parser.add_argument("--gap", type=float, nargs=2, default=(1.0, 4.0), help="seconds between failures")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    print(f"chaos seed {seed}, {args.seconds:g} s at replay speed {args.speed:g}")
    with tempfile.TemporaryDirectory() as directory, chaos_platform(Path(directory), speed=args.speed) as p:
        began = time.monotonic()
        run = soak(p, seed, args.seconds, args.speed, gap_s=tuple(args.gap))
    return 0 if print_run(run, began) else 1


if __name__ == "__main__":
    sys.exit(main())
