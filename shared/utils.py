"""Small helpers the seed named: timestamps, time parsing and the success response shape."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from shared.errors import InvalidInputError


def get_timestamp_ms() -> int:
    """Now, in epoch milliseconds (UTC)."""
    return time.time_ns() // 1_000_000


def format_response(data: Any = None, message: str | None = None, **meta: Any) -> dict[str, Any]:
    """The success envelope used by endpoints that return a status message with data."""
    body: dict[str, Any] = {"success": True, "data": data, "timestamp": get_timestamp_ms()}
    if message is not None:
        body["message"] = message
    body.update(meta)
    return body


def parse_time_s(value: str | int | float, *, field: str = "time") -> int:
    """Epoch seconds from ISO-8601 (naive = UTC) or an epoch number (seconds, or milliseconds if > 1e11)."""
    if isinstance(value, int | float) or (isinstance(value, str) and _is_number(value)):
        number = float(value)
        return int(number // 1000) if abs(number) > 1e11 else int(number)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{field}: {value!r} is neither ISO-8601 nor epoch seconds",
            code="invalid_time",
            details={"field": field, "value": value},
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
