"""A check schemathesis runs on every response of the fuzz tests (loaded through schemathesis.toml's `hooks`)."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def no_traceback(ctx: Any, response: Any, case: Any) -> bool | None:
    """No body ever carries a Python traceback, whatever its status (bytes: Arrow bodies are not text)."""
    if b"Traceback (most recent call last)" in response.content:
        raise AssertionError("the response body carries a Python traceback")
    return None
