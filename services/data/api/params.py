"""Query-parameter parsing shared by the routers: times in ISO-8601 or epoch, output formats."""

from __future__ import annotations

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
