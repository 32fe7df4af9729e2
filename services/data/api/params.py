"""Query-parameter parsing shared by the routers: times in ISO-8601 or epoch, output formats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from shared.errors import InvalidInputError
from shared.utils import parse_time_s

OutputFormat = Literal["json", "arrow", "csv"]


def optional_time_s(value: str | None, field: str) -> int | None:
    return None if value is None else parse_time_s(value, field=field)


def check_order(start: int | None, end: int | None) -> None:
    """`from` after `to` is refused, naming both."""
    if start is not None and end is not None and start > end:
        raise InvalidInputError("from is after to", code="invalid_range", details={"from": start, "to": end})


def checked_range(from_: str | int, to: str | int, max_days: int) -> tuple[int, int]:
    """The half-open [from, to + 1) of an inclusive range in epoch seconds; refused when reversed or
    longer than `max_days`."""
    from_s, to_s = parse_time_s(from_, field="from"), parse_time_s(to, field="to")
    check_order(from_s, to_s)
    if to_s - from_s > max_days * 86_400:
        raise InvalidInputError(
            f"the range spans more than {max_days} days",
            code="range_too_large",
            details={"from": from_s, "to": to_s, "max_range_days": max_days},
        )
    return from_s, to_s + 1


def refuse_future(from_s: int, market_now_ms: int) -> None:
    """A job over a range that starts after the market's now is refused: there is nothing to fetch or to
    complete yet, and "fill the gaps" would loop (a read of the future simply finds nothing)."""
    if from_s * 1000 > market_now_ms:
        now_iso = datetime.fromtimestamp(market_now_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z")
        raise InvalidInputError(
            f"the range starts after the market's current time ({now_iso}): it has no data yet",
            code="range_in_future",
            details={"field": "from", "from": from_s, "market_now": now_iso, "market_now_ms": market_now_ms},
        )
