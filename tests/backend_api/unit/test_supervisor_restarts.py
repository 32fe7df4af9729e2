"""The supervisor against a real child that dies at start, with the backoff sleep and clock injected."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from services.backend_api.core.supervisor import Supervisor
from shared.config import load_config
from tests.support.platform import write_config


def test_supervisor_crashing_child_backs_off_with_growing_delays_then_errors(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        overrides={
            "orchestrator": {
                "backoff_initial_s": 1,
                "backoff_max_s": 60,
                "restart_budget": 5,
                "restart_window_s": 300,
            }
        },
        modules={"ai": "tests.support.crashing_service"},
    )
    settings = load_config(config)
    now = [0.0]
    delays: list[float] = []
    events: list[dict[str, Any]] = []

    async def fake_sleep(seconds: float) -> None:
        delays.append(seconds)
        now[0] += seconds

    async def scenario() -> None:
        supervisor = Supervisor(
            settings,
            internal_token="t",
            publish=lambda kind, data: events.append(data.wire()),
            clock=lambda: now[0],
            sleep=fake_sleep,
            names=["ai"],
        )
        await supervisor.start_all()
        task = supervisor.services["ai"].task
        assert task is not None
        await asyncio.wait_for(task, 60)
        status = supervisor.status("ai")
        await supervisor.aclose()
        assert status.state == "ERROR"
        assert "restart budget spent" in (status.last_error or "")
        assert status.restarts == 5

    asyncio.run(scenario())
    assert delays == [1, 2, 4, 8, 16]
    assert [e["to"] for e in events][-4:] == ["STARTING", "OFFLINE", "ERROR", "STOPPED"]
    assert all("exited with code 3" in e["reason"] for e in events if e["to"] == "OFFLINE")


def test_supervisor_start_and_restart_answer_the_state_they_lead_to(tmp_path: Path) -> None:
    """`POST /api/services/{name}/restart` answered STOPPED, the state before the child was launched."""
    config = write_config(tmp_path, modules={"ai": "tests.support.crashing_service"})
    settings = load_config(config)

    async def scenario() -> tuple[str, str]:
        supervisor = Supervisor(settings, internal_token="t", publish=lambda kind, data: None, names=["ai"])
        try:
            started = await supervisor.start("ai")
            await supervisor.stop("ai")
            restarted = await supervisor.restart("ai")
        finally:
            await supervisor.aclose()
        return started.state, restarted.state

    assert asyncio.run(scenario()) == ("STARTING", "STARTING")
