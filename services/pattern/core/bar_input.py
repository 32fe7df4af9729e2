"""Bars sent by a client, checked by the shared rules (`shared.market.bar_input`), with pattern's volume.

JSON bodies arrive already as int64/float64 arrays (see `shared.market.bar_columns`) and are used as they
are, without a copy; Arrow columns or plain lists are converted there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.market.bar_input import Columns, ColumnValues, check_bars


def bars_from_lists(
    columns: Mapping[str, ColumnValues | None], *, max_bars: int, required: Sequence[str] = ()
) -> Columns:
    """Numpy columns of client bars, validated; `volume` defaults to `tick_volume` (MT5's bar volume), the
    volume TA-Lib's indicators read."""
    out = check_bars(columns, required=required, max_bars=max_bars)
    if "volume" not in out and "tick_volume" in out:
        out["volume"] = out["tick_volume"]
    return out
