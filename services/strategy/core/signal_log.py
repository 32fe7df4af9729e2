"""Each instance's signal log: its decisions (taken, refused or ignored) and the candles it did not act on
(warming up, skipped as backfill or stale), each with why. `last_signal` keeps only the newest candle; the
log keeps the newest `kept` entries per instance so the dashboard can show what happened and why.

A candle that fired nothing is not logged, and a run of candles skipped for the same reason (a backfill of
hours of history, a warm-up) is one entry that counts them: either would push the decisions out of the bound.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection

_meta = MetaData()
_signals = Table(
    "strategy_signals",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("instance_id", String(16), nullable=False, index=True),
    Column("bar_time", BigInteger, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("entry", Text, nullable=False),
)


def decision_entry(direction: str, action: str, reason: str, refused: str | None) -> dict[str, Any]:
    """A decision as published in the `signal` event: `refused` names the refusal when it was not placed."""
    return {
        "kind": "signal",
        "direction": direction,
        "action": action,
        "reason": reason,
        "refused": refused,
        "details": {},
    }


def candle_entry(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The entry of a candle's recorded summary when it was not acted on (None when it was: its decisions
    are logged as they are taken)."""
    details = {k: v for k, v in summary.items() if k not in ("bar_time", "skipped", "warming_up")}
    if "skipped" in summary:
        kind, reason = "skipped", str(summary["skipped"])
    elif summary.get("warming_up"):
        kind, reason = "warming_up", "warming up"
    elif "daily_loss" in summary:
        kind, reason = "daily_loss", "daily loss limit reached"
    else:
        return None
    return {
        "kind": kind,
        "direction": None,
        "action": None,
        "reason": reason,
        "refused": None,
        "details": details,
    }


class SignalLog:
    """The log's table; the store calls it inside its own transactions."""

    def __init__(self, kept: int) -> None:
        self.kept = kept

    @staticmethod
    def create(conn: Connection) -> None:
        _meta.create_all(conn)

    def append(
        self, conn: Connection, instance_id: str, bar_time: int, time_ms: int, entry: dict[str, Any]
    ) -> None:
        """Add an entry and drop the instance's oldest beyond the bound; a candle skipped for the reason the
        newest entry already gives is counted in that entry instead."""
        entry = {**entry, "count": 1, "first_bar_time": bar_time}
        newest = conn.execute(
            select(_signals.c.id, _signals.c.entry)
            .where(_signals.c.instance_id == instance_id)
            .order_by(_signals.c.id.desc())
            .limit(1)
        ).first()
        if newest is not None and entry["kind"] != "signal":
            previous = orjson.loads(newest.entry)
            if (previous["kind"], previous["reason"]) == (entry["kind"], entry["reason"]):
                entry.update(count=previous["count"] + 1, first_bar_time=previous["first_bar_time"])
                conn.execute(
                    update(_signals)
                    .where(_signals.c.id == newest.id)
                    .values(bar_time=bar_time, time_ms=time_ms, entry=orjson.dumps(entry).decode())
                )
                return
        conn.execute(
            insert(_signals).values(
                instance_id=instance_id,
                bar_time=bar_time,
                time_ms=time_ms,
                entry=orjson.dumps(entry).decode(),
            )
        )
        oldest_kept = (
            select(_signals.c.id)
            .where(_signals.c.instance_id == instance_id)
            .order_by(_signals.c.id.desc())
            .offset(self.kept - 1)
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(
            delete(_signals).where((_signals.c.instance_id == instance_id) & (_signals.c.id < oldest_kept))
        )

    def read(self, conn: Connection, instance_id: str, limit: int) -> list[dict[str, Any]]:
        """The instance's newest `limit` entries, newest first."""
        rows = conn.execute(
            select(_signals.c.bar_time, _signals.c.time_ms, _signals.c.entry)
            .where(_signals.c.instance_id == instance_id)
            .order_by(_signals.c.id.desc())
            .limit(limit)
        ).all()
        return [{"time_ms": r.time_ms, "bar_time": r.bar_time, **orjson.loads(r.entry)} for r in rows]
