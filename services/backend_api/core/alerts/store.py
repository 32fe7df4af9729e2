"""Alert rules and the delivery log, persisted in one SQLite file (SQLAlchemy Core, one database thread)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter
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
from sqlalchemy.engine import Row

from services.backend_api.core.alerts.rules import RuleRead, RuleSpec
from shared.db import DatabaseThread, sqlite_engine
from shared.errors import NotFoundError

_SPEC = TypeAdapter[RuleSpec](RuleSpec)
_meta = MetaData()
_rules = Table(
    "alert_rules",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("last_fired_ms", BigInteger),
    Column("spec", Text, nullable=False),
)
_deliveries = Table(
    "alert_deliveries",
    _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False, index=True),
    Column("rule_id", Integer),
    Column("rule_name", String(100), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(8), nullable=False),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("title", Text, nullable=False),
)

DeliveryStatus = Literal["sent", "failed"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message's fate on one channel."""

    id: int
    time_ms: int
    rule_id: int | None
    rule_name: str
    event_type: str
    channel: str
    status: DeliveryStatus
    reason: str
    attempts: int
    title: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rule(row: Row[Any]) -> RuleRead:
    return RuleRead(
        id=row.id,
        created_ms=row.created_ms,
        last_fired_ms=row.last_fired_ms,
        rule=_SPEC.validate_json(row.spec),
    )


class AlertStore:
    """Blocking calls; run them on `worker` from async code."""

    def __init__(self, path: Path, *, deliveries_kept: int) -> None:
        self.engine = sqlite_engine(path)
        _meta.create_all(self.engine)
        self.worker = DatabaseThread("alerts-db")
        self._kept = deliveries_kept

    def close(self) -> None:
        self.worker.close()
        self.engine.dispose()

    def add_rule(self, spec: RuleSpec, now_ms: int) -> RuleRead:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(_rules).values(created_ms=now_ms, spec=_SPEC.dump_json(spec).decode())
            )
            rule_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return self.rule(int(rule_id or 0))

    def rule(self, rule_id: int) -> RuleRead:
        with self.engine.connect() as conn:
            row = conn.execute(select(_rules).where(_rules.c.id == rule_id)).first()
        if row is None:
            raise NotFoundError(f"no alert rule {rule_id}", code="unknown_rule", details={"id": rule_id})
        return _rule(row)

    def rules(self) -> list[RuleRead]:
        with self.engine.connect() as conn:
            return [_rule(row) for row in conn.execute(select(_rules).order_by(_rules.c.id))]

    def count_rules(self) -> int:
        with self.engine.connect() as conn:
            return len(conn.execute(select(_rules.c.id)).all())

    def set_enabled(self, rule_id: int, enabled: bool) -> RuleRead:
        spec = self.rule(rule_id).rule.model_copy(update={"enabled": enabled})
        with self.engine.begin() as conn:
            conn.execute(
                update(_rules).where(_rules.c.id == rule_id).values(spec=_SPEC.dump_json(spec).decode())
            )
        return self.rule(rule_id)

    def set_fired(self, rule_id: int, fired_ms: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(_rules).where(_rules.c.id == rule_id).values(last_fired_ms=fired_ms))

    def delete_rule(self, rule_id: int) -> None:
        with self.engine.begin() as conn:
            if conn.execute(delete(_rules).where(_rules.c.id == rule_id)).rowcount == 0:
                raise NotFoundError(f"no alert rule {rule_id}", code="unknown_rule", details={"id": rule_id})

    def record(
        self,
        *,
        time_ms: int,
        rule_id: int | None,
        rule_name: str,
        event_type: str,
        channel: str,
        status: DeliveryStatus,
        reason: str,
        attempts: int,
        title: str,
    ) -> Delivery:
        values = {
            "time_ms": time_ms,
            "rule_id": rule_id,
            "rule_name": rule_name,
            "event_type": event_type,
            "channel": channel,
            "status": status,
            "reason": reason,
            "attempts": attempts,
            "title": title,
        }
        with self.engine.begin() as conn:
            result = conn.execute(insert(_deliveries).values(**values))
            new_id = int(result.inserted_primary_key[0]) if result.inserted_primary_key else 0
            # Keep the log bounded: drop the oldest rows beyond the configured count.
            conn.execute(delete(_deliveries).where(_deliveries.c.id <= new_id - self._kept))
        return Delivery(id=new_id, **values)  # type: ignore[arg-type]

    def deliveries(self, *, limit: int, rule_id: int | None = None) -> list[Delivery]:
        """The newest deliveries first."""
        query = select(_deliveries).order_by(_deliveries.c.id.desc()).limit(limit)
        if rule_id is not None:
            query = query.where(_deliveries.c.rule_id == rule_id)
        with self.engine.connect() as conn:
            return [Delivery(**{c: getattr(row, c) for c in row._fields}) for row in conn.execute(query)]
