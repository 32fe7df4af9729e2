"""One error mapping for every call between services (async and blocking alike)."""

from __future__ import annotations

from shared.clients import upstream_error
from shared.errors import ServiceUnavailableError


def test_a_callee_refusing_our_token_is_503_not_its_401() -> None:
    # The end client did nothing wrong: a wrong internal token makes the callee unusable to us.
    for status in (401, 403):
        error = upstream_error("data", status, {"code": "unauthorized", "message": "bad token"})
        assert isinstance(error, ServiceUnavailableError)
        assert (error.status_code, error.code) == (503, "data_error")


def test_a_callees_4xx_passes_through_with_its_code() -> None:
    error = upstream_error(
        "mt5", 404, {"code": "unknown_symbol", "message": "no", "details": {"symbol": "X"}}
    )
    assert (error.status_code, error.code) == (404, "unknown_symbol")
    assert error.details == {"symbol": "X", "service": "mt5"}


def test_a_callees_5xx_is_503_named_after_it() -> None:
    error = upstream_error("mt5", 500, {"code": "internal", "message": "boom"})
    assert (error.status_code, error.code) == (503, "mt5_error")
