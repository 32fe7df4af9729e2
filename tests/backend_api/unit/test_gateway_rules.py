"""The gateway's pure rules: redirect targets and the failed-authentication throttle (clock injected)."""

from __future__ import annotations

import pytest

from services.backend_api.core.auth_throttle import AuthThrottle
from services.backend_api.core.gateway import gateway_location

CHILD = "http://127.0.0.1:5302"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (f"{CHILD}/account?a=1", "/api/mt5/account?a=1"),
        ("/account", "/api/mt5/account"),
        ("account", "account"),
        ("https://example.com/x", "https://example.com/x"),
        ("http://127.0.0.1:9999/x", "http://127.0.0.1:9999/x"),
    ],
)
def test_gateway_location_keeps_redirects_on_the_gateway(location: str, expected: str) -> None:
    assert gateway_location(location, CHILD, "/api/mt5") == expected


def test_auth_throttle_refuses_after_max_failures_until_the_window_ends() -> None:
    now = [100.0]
    throttle = AuthThrottle(3, 60.0, clock=lambda: now[0])

    for _ in range(3):
        assert throttle.retry_after_s("10.0.0.1") is None
        throttle.failed("10.0.0.1", "GET", "/api/x")
    now[0] += 20.5

    assert throttle.retry_after_s("10.0.0.1") == 40
    assert throttle.retry_after_s("10.0.0.2") is None
    now[0] += 40
    assert throttle.retry_after_s("10.0.0.1") is None


def test_auth_throttle_table_is_bounded() -> None:
    throttle = AuthThrottle(1, 60.0, clock=lambda: 0.0, max_clients=10)

    for n in range(100):
        throttle.failed(f"10.0.0.{n}", "GET", "/")

    assert throttle.retry_after_s("10.0.0.99") == 60
    assert throttle.retry_after_s("10.0.0.0") is None
