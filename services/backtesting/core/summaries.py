"""Headline metrics of finished runs, kept beside the job database so listings need not load results.

The job process writes its run's summary just before returning the full result; a listing joins the
summaries by job id. A summary whose job was later deleted is removed with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, MetaData, String, Table, delete, select

from shared.db import sqlite_engine

# The figures a listing shows; the full set is in the job's result.
SUMMARY_FIELDS = (
    "return_pct",
    "buy_hold_return_pct",
    "sharpe_ratio",
    "max_drawdown_pct",
    "win_rate_pct",
    "profit_factor",
    "trades",
    "equity_final",
)

_metadata = MetaData()
_summaries = Table(
    "run_summaries",
    _metadata,
    Column("job_id", String(36), primary_key=True),
    Column("summary", JSON, nullable=False),
)


def summarize(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The listing fields of a metrics dict (NaN kept; the JSON layer writes it as null)."""
    return {name: metrics[name] for name in SUMMARY_FIELDS if name in metrics}


class SummaryStore:
    """job id -> summary, in its own SQLite file (WAL, so job processes and the service share it)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._engine = sqlite_engine(path)
        _metadata.create_all(self._engine)

    def put(self, job_id: str, summary: Mapping[str, Any]) -> None:
        # NaN is not JSON; undefined figures are stored as null.
        clean = {k: (None if isinstance(v, float) and v != v else v) for k, v in summary.items()}
        with self._engine.begin() as conn:
            conn.execute(delete(_summaries).where(_summaries.c.job_id == job_id))
            conn.execute(_summaries.insert().values(job_id=job_id, summary=clean))

    def get_many(self, job_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(job_ids)
        if not ids:
            return {}
        with self._engine.connect() as conn:
            rows = conn.execute(select(_summaries).where(_summaries.c.job_id.in_(ids)))
            return {row.job_id: row.summary for row in rows}

    def delete(self, job_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(_summaries).where(_summaries.c.job_id == job_id))

    def close(self) -> None:
        self._engine.dispose()
