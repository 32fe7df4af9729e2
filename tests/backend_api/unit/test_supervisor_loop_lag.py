"""The supervisor against a real, healthy child while its own event loop is starved (as by a hub flood)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from services.backend_api.core.supervisor import Supervisor
from shared.config import load_config
from shared.contracts.health import HealthProbe
from tests.support.platform import write_config


def test_supervisor_late_event_loop_does_not_count_failed_checks_against_a_healthy_child(
    tmp_path: Path,
) -> None:
    config = write_config(
        tmp_path,
        overrides={
            "orchestrator": {
                "health_interval_s": 0.1,
                "health_timeout_s": 0.3,
                "health_failures": 1,
                "health_lag_tolerance_s": 0.25,
                "loop_lag_sample_s": 0.05,
            }
        },
        modules={"ai": "tests.support.emitter_service"},
    )
    settings = load_config(config)
    events: list[dict[str, Any]] = []

    async def starve_loop(rounds: int) -> None:
        """Hold the loop longer than a health check may take, again and again: every check now times out
        on backend-api's side while the child answers at once."""
        for _ in range(rounds):
            time.sleep(0.6)  # the point: work that blocks the loop
            await asyncio.sleep(0)  # one turn for everyone else, as a flooded hub's senders give

    async def scenario() -> tuple[str, int]:
        supervisor = Supervisor(
            settings, internal_token="t", publish=lambda kind, data: events.append(data.wire()), names=["ai"]
        )
        # A check on a kept-alive connection rides out a late loop; one that must connect does not. With
        # the default 5 s interval the child's 5 s keep-alive has usually expired, so checks connect anew:
        # do so every time here.
        await supervisor._health.aclose()
        supervisor._health = HealthProbe(settings.orchestrator.health_timeout_s, keep_alive=False)
        await supervisor.start_all()
        try:
            deadline = time.monotonic() + 30
            while supervisor.status("ai").state != "ONLINE" and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert supervisor.status("ai").state == "ONLINE"
            await starve_loop(10)
            await asyncio.sleep(0.2)
            status = supervisor.status("ai")
            return status.state, status.restarts
        finally:
            await supervisor.aclose()

    state, restarts = asyncio.run(scenario())
    assert (state, restarts) == ("ONLINE", 0), [e["reason"] for e in events]
    assert "OFFLINE" not in [e["to"] for e in events]
