"""Supervision with real processes: restart after kill -9 and after a hang, events on the hub."""

from __future__ import annotations

import asyncio
import json
import os
import signal

import websockets

from tests.support.platform import API_KEY, Platform
from tests.support.waits import wait_until


def test_supervisor_child_killed_with_sigkill_comes_back_online_with_new_pid_and_hub_reports_it(
    platform: Platform,
) -> None:
    before = platform.wait_state("pattern", "ONLINE")
    events: list[dict] = []

    async def scenario() -> None:
        uri = f"ws://127.0.0.1:{platform.data['services']['backend-api']['port']}/ws/events?token={API_KEY}&types=service.status"
        async with websockets.connect(uri) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert snapshot["type"] == "hub.snapshot"
            os.kill(before["pid"], signal.SIGKILL)
            while not any(e["data"]["service"] == "pattern" and e["data"]["to"] == "ONLINE" for e in events):
                events.append(json.loads(await asyncio.wait_for(ws.recv(), 15)))

    asyncio.run(scenario())
    after = platform.wait_state("pattern", "ONLINE")
    assert after["pid"] != before["pid"]
    assert after["restarts"] == before["restarts"] + 1
    transitions = [(e["data"]["from"], e["data"]["to"]) for e in events if e["data"]["service"] == "pattern"]
    assert transitions == [("ONLINE", "OFFLINE"), ("OFFLINE", "STARTING"), ("STARTING", "ONLINE")]
    assert "exited" in events[0]["data"]["reason"]


def test_supervisor_child_stopped_with_sigstop_is_killed_and_restarted(platform: Platform) -> None:
    before = platform.wait_state("strategy", "ONLINE")
    os.kill(before["pid"], signal.SIGSTOP)
    try:
        after = wait_until(
            lambda: (
                (s := platform.statuses().get("strategy"))
                and s["state"] == "ONLINE"
                and s["pid"] != before["pid"]
                and s
            ),
            30,
            "strategy restarted after SIGSTOP",
        )
    finally:
        os.kill(before["pid"], signal.SIGCONT) if _alive(before["pid"]) else None
    assert not _alive(before["pid"])
    assert "health checks failed" in (after["last_error"] or "")


def test_supervisor_manual_stop_and_start_change_state_and_pid(platform: Platform) -> None:
    before = platform.wait_state("backtesting", "ONLINE")
    stopped = platform.http.post("/api/services/backtesting/stop").json()
    assert stopped["state"] == "STOPPED" and stopped["pid"] is None
    assert not _alive(before["pid"])
    assert platform.http.post("/api/services/backtesting/start").status_code == 200
    after = platform.wait_state("backtesting", "ONLINE")
    assert after["pid"] != before["pid"]
    conflict = platform.http.post("/api/services/backtesting/start")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "already_running"


def test_supervisor_logs_endpoint_returns_the_tail_of_the_service_log(platform: Platform) -> None:
    body = platform.http.get("/api/services/data/logs", params={"lines": 5}).json()
    assert body["service"] == "data" and 0 < len(body["lines"]) <= 5
    assert any("data" in line for line in platform.http.get("/api/services/data/logs").json()["lines"])
    bad = platform.http.get("/api/services/data/logs", params={"lines": 0})
    assert bad.status_code == 422 and bad.json()["error"]["details"]["errors"][0]["field"] == "query.lines"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:
        return not fh.read().split(") ")[-1].startswith("Z")


def test_supervisor_logs_endpoint_hides_health_checks_on_request(platform: Platform) -> None:
    def lines(**params: object) -> list[str]:
        response = platform.http.get("/api/services/backend-api/logs", params={"lines": 400, **params})
        assert response.status_code == 200
        return response.json()["lines"]

    wait_until(lambda: any("/health" in line for line in lines()), 10, "no health check in the log")
    assert not any('/health "HTTP' in line and " 200 " in line for line in lines(hide_health=True))
    bad = platform.http.get("/api/services/backend-api/logs", params={"hide_health": "perhaps"})
    assert (
        bad.status_code == 422 and bad.json()["error"]["details"]["errors"][0]["field"] == "query.hide_health"
    )


def test_event_types_lists_the_catalog_for_the_dashboards_filters(platform: Platform) -> None:
    body = platform.http.get("/api/event-types").json()
    types = {item["type"]: item for item in body}
    assert {"tick", "service.status", "order.rejected", "backtest.completed"} <= set(types)
    assert types["service.status"]["publishers"] == "backend-api" and types["tick"]["description"]
    assert platform.http.get("/api/event-types", headers={"X-API-Key": "wrong"}).status_code == 401
