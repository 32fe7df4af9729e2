"""The log tail the dashboard shows: the last lines of a real file, health-check polls left out on request."""

from __future__ import annotations

from pathlib import Path

from shared.tail import is_health_check, tail_lines

POLL = (
    '2026-12-04 20:42:13,893 INFO httpx [1] HTTP Request: GET http://127.0.0.1:5002/health "HTTP/1.1 200 OK"'
)
FAILED_POLL = '2026-12-04 20:42:18,893 INFO httpx [1] HTTP Request: GET http://127.0.0.1:5002/health "HTTP/1.1 503 Service Unavailable"'
PROXIED = '2026-12-04 20:42:14,000 INFO httpx [1] HTTP Request: GET http://127.0.0.1:5002/healthy/things "HTTP/1.1 200 OK"'


def test_is_health_check_a_successful_poll_only() -> None:
    assert is_health_check(POLL)
    assert not is_health_check(FAILED_POLL)  # a failing poll is what the operator is looking for
    assert not is_health_check(PROXIED)
    assert not is_health_check("2026-12-04 20:42:13,893 INFO supervisor [1] mt5: STARTING -> ONLINE")


def test_tail_lines_without_health_checks_reads_back_past_a_flood_of_polls(tmp_path: Path) -> None:
    log = tmp_path / "backend-api.log"
    meaningful = [f"2026-12-04 20:00:{i:02d},000 WARNING x [1] event {i}" for i in range(3)]
    log.write_text("\n".join([*meaningful, *[POLL] * 5000, FAILED_POLL]) + "\n")

    kept = tail_lines(log, 4, keep=lambda line: not is_health_check(line))

    assert kept == [*meaningful, FAILED_POLL]
    assert tail_lines(log, 2) == [POLL, FAILED_POLL]
