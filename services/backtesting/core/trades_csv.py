"""A run's trades as CSV: one row per closed trade, prices at the symbol's digits, times ISO-8601 UTC."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from services.backtesting.core.report_values import decimals_of, digits_of, fixed, iso_time

COLUMNS = (
    "entry_time",
    "exit_time",
    "direction",
    "volume",
    "entry_price",
    "exit_price",
    "sl",
    "tp",
    "pnl",
    "commission",
    "return_pct",
    "duration_s",
    "exit_reason",
)


def trades_csv(trades: Mapping[str, Sequence[Any]], *, point: float, volume_step: float) -> str:
    """The result's trade columns as CSV text (a header row first; none open at the end are listed)."""
    digits, lots = digits_of(point), decimals_of(volume_step)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for i in range(len(trades["pnl"])):
        size = trades["size"][i]
        writer.writerow(
            (
                iso_time(trades["entry_time"][i]),
                iso_time(trades["exit_time"][i]),
                "buy" if size > 0 else "sell",
                fixed(abs(size), lots),
                fixed(trades["entry_price"][i], digits),
                fixed(trades["exit_price"][i], digits),
                fixed(trades["sl"][i], digits),
                fixed(trades["tp"][i], digits),
                fixed(trades["pnl"][i], 2),
                fixed(trades["commission"][i], 2),
                f"{trades['return_pct'][i]:.4f}",  # a ratio: rounded, not a price to keep exact
                int(trades["duration_s"][i]),
                trades["exit_reason"][i],
            )
        )
    return out.getvalue()
