"""Chaos soak: while collection runs on the replay clock and two instances trade, random children are
killed (`kill -9`) or frozen (SIGSTOP) for CHAOS_SECONDS (default 45). Afterwards every service is ONLINE,
the market clock kept its replay (a restarted mt5 does not rewind it) and collection caught up with it,
the stored ticks equal the terminal's, no order was sent twice, both instances still run, and the hub
reported every outage. CHAOS_SEED replays a run; bench/chaos.py is the long version."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.support.chaos import chaos_platform, recovery_summary, soak

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]
SPEED = 120.0  # an M1 bar every 0.5 s


def test_chaos_kills_and_hangs_lose_nothing_and_every_service_recovers(tmp_path: Path) -> None:
    seconds = float(os.environ.get("CHAOS_SECONDS", "45"))
    seed = int(os.environ.get("CHAOS_SEED", random.SystemRandom().randrange(2**32)))
    print(f"chaos seed {seed} ({seconds:g} s): rerun with CHAOS_SEED={seed}")
    with chaos_platform(tmp_path, speed=SPEED) as platform:
        run = soak(platform, seed, seconds, SPEED)
    print("\n".join(f"{o.service} {o.kind} recovery {o.recovery_s}" for o in run.outages))
    print(recovery_summary(run.outages))
    failed = {name: found for name, found in run.checks().items() if found}
    assert not failed, f"chaos seed {seed}: {failed}"
