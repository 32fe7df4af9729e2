"""Small helpers the seed named: timestamps and time parsing."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from shared.errors import InvalidInputError


def get_timestamp_ms() -> int:
    """Now, in epoch milliseconds (UTC)."""
    return time.time_ns() // 1_000_000


def format_utc(epoch_s: int) -> str:
    """Epoch seconds as ISO-8601 UTC with a `Z`, e.g. `2024-01-08T22:00:00Z`."""
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z, the end of datetime's range


def parse_time_ms(value: str | int | float, *, field: str = "time") -> int:
    """Epoch milliseconds from ISO-8601 (naive = UTC, fractions kept) or an epoch number: milliseconds when
    above 1e11 (which as seconds would be the year 5138), else seconds (a fraction is kept)."""
    invalid = InvalidInputError(
        f"{field}: {value!r} is neither ISO-8601 nor an epoch time between the years 1 and 9999",
        code="invalid_time",
        details={"field": field, "value": str(value)},
    )
    number = _number(value)
    if number is not None:
        # NaN, infinities and times past year 9999 would overflow every store and clock downstream.
        if not math.isfinite(number) or abs(number) > MAX_TIME_MS:
            raise invalid
        return int(number) if abs(number) > 1e11 else round(number * 1000)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise invalid from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


def parse_time_s(value: str | int | float, *, field: str = "time") -> int:
    """Epoch seconds (floored) from the same forms `parse_time_ms` accepts."""
    return parse_time_ms(value, field=field) // 1000


def _number(value: object) -> int | float | None:
    """`value` if it is a number, or the number a string spells; None otherwise (a boolean is no time)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None
