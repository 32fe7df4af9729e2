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


def parse_time_ms(value: str | int | float, *, field: str = "time") -> int:
    """Epoch milliseconds from ISO-8601 (naive = UTC, fractions kept) or an epoch number: milliseconds when
    above 1e11 (which as seconds would be the year 5138), else seconds (a fraction is kept)."""
    number = value if isinstance(value, int | float) else _number(value)
    if number is not None and number == number:  # NaN is not a time
        return int(number) if abs(number) > 1e11 else round(number * 1000)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"{field}: {value!r} is neither ISO-8601 nor an epoch time",
            code="invalid_time",
            details={"field": field, "value": value},
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


def parse_time_s(value: str | int | float, *, field: str = "time") -> int:
    """Epoch seconds (floored) from the same forms `parse_time_ms` accepts."""
    return parse_time_ms(value, field=field) // 1000


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
