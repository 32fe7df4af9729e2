"""The one time parser of query parameters and bodies: what it accepts, and that it refuses the rest as a 4xx."""

from __future__ import annotations

from typing import Any

import pytest

from shared.errors import InvalidInputError
from shared.utils import parse_time_ms


@pytest.mark.parametrize(
    ("value", "expected_ms"),
    [
        ("2024-01-01", 1_704_067_200_000),
        ("2024-01-01T00:00:00.5Z", 1_704_067_200_500),
        (1_704_067_200, 1_704_067_200_000),
        ("1704067200123", 1_704_067_200_123),
        ("0001-01-01", -62_135_596_800_000),
    ],
)
def test_parse_time_ms_iso_or_epoch_gives_epoch_ms(value: Any, expected_ms: int) -> None:
    assert parse_time_ms(value) == expected_ms


# Found by fuzzing: infinities and far-future numbers overflowed (a 500), a JSON object was a TypeError.
@pytest.mark.parametrize(
    "value", ["inf", "-inf", "nan", float("inf"), "1e30", 10**30, {}, [], True, "yesterday"]
)
def test_parse_time_ms_non_time_is_refused_as_invalid_time(value: Any) -> None:
    with pytest.raises(InvalidInputError) as refused:
        parse_time_ms(value, field="from")

    assert refused.value.code == "invalid_time"
    assert refused.value.details == {"field": "from", "value": str(value)}
