"""What a series of bars covers: how many bars were used, the first and last, and the holes inside the
window asked for (expected opens of the trading calendar without a bar).

The data service computes it with every bar read (it owns the calendar and the store), so a reader gets
the bars and their holes in one round trip: as the `coverage` field of the JSON answer, or as the
`coverage` key of the Arrow schema metadata. Services pass it on in their own answers; bars posted in a
request body have no calendar context, so their coverage says `holes: null` (unknown), never `[]`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import orjson
from pydantic import AliasChoices, BaseModel, Field

COVERAGE_METADATA_KEY = "coverage"


class Hole(BaseModel):
    """A run of `bars` expected bar opens without a bar, as the half-open [from, to)."""

    from_: int = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: int
    bars: int
    unfillable: bool = Field(default=False, description="the terminal was asked and had no data there")


class Coverage(BaseModel):
    """Bars used (count, first and last open) and the holes in [from, to) against the trading calendar."""

    count: int
    first: int | None = None
    last: int | None = None
    from_: int | None = Field(
        default=None, validation_alias=AliasChoices("from", "from_"), serialization_alias="from"
    )
    to: int | None = None
    holes: list[Hole] | None = Field(
        default=None, description="null when unknown (bars posted in the request have no calendar)"
    )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)

    def to_metadata(self) -> dict[str, str]:
        """The Arrow schema metadata entry carrying this coverage."""
        return {COVERAGE_METADATA_KEY: orjson.dumps(self.to_dict()).decode()}

    @classmethod
    def from_metadata(cls, metadata: Mapping[bytes, bytes] | None) -> Coverage | None:
        """The coverage in Arrow schema metadata, or None when the sender did not say."""
        raw = (metadata or {}).get(COVERAGE_METADATA_KEY.encode())
        return None if raw is None else cls.model_validate_json(raw)


def of_times(times: np.ndarray, holes: Sequence[Hole] | None = None) -> Coverage:
    """Coverage of bars with these open times; `holes` None means unknown (posted bars)."""
    if len(times) == 0:
        return Coverage(count=0, holes=None if holes is None else list(holes))
    first, last = int(times[0]), int(times[-1])
    return Coverage(count=len(times), first=first, last=last, holes=None if holes is None else list(holes))


def merge(parts: Iterable[Coverage]) -> Coverage:
    """One coverage of several reads of the same series (e.g. a look-back read and the window after it):
    counts add up, the window is the union, overlapping or touching holes join."""
    parts = list(parts)
    firsts = [p.first for p in parts if p.first is not None]
    lasts = [p.last for p in parts if p.last is not None]
    froms = [p.from_ for p in parts if p.from_ is not None]
    tos = [p.to for p in parts if p.to is not None]
    holes: list[Hole] | None = None
    if parts and all(p.holes is not None for p in parts):
        holes = []
        for hole in sorted((h for p in parts for h in p.holes or ()), key=lambda h: h.from_):
            # Reads merged here cover disjoint windows, so their holes can only touch: join those.
            if holes and hole.from_ <= holes[-1].to and hole.unfillable == holes[-1].unfillable:
                last = holes[-1]
                holes[-1] = Hole(
                    from_=last.from_,
                    to=max(last.to, hole.to),
                    bars=last.bars + hole.bars,
                    unfillable=last.unfillable,
                )
            else:
                holes.append(hole)
    return Coverage(
        count=sum(p.count for p in parts),
        first=min(firsts, default=None),
        last=max(lasts, default=None),
        from_=min(froms, default=None),
        to=max(tos, default=None),
        holes=holes,
    )
