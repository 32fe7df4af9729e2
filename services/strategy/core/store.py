"""Instances and their orders, persisted in SQLite (or DATABASE_URL) through SQLAlchemy Core.

The `orders` table is both the trade log and an outbox: an order's row (its client id and the exact
request) is written before it is sent, so after a crash the same request goes out under the same id and
the mt5 service recognises it (it refuses an id reused with a different request). Deleted instances are
kept, marked deleted, so their magic numbers are never handed out again and their positions show up as
orphans instead of being adopted by a newcomer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Row

from services.strategy.core.config import RiskConfig
from services.strategy.core.signal_log import SignalLog, candle_entry
from shared.db import DatabaseThread
from shared.errors import NotFoundError
from shared.trading.sizing import SizingConfig, SizingMode

ID_BYTES = 4  # 8 hex characters: short enough for client ids and MT5's 31-character comment


class InstanceState(StrEnum):
    STOPPED = "stopped"
    RUNNING = "running"
    ERROR = "error"


class OrderStatus(StrEnum):
    PENDING = "pending"  # written, not yet answered by the mt5 service
    DONE = "done"
    REFUSED = "refused"
    EXPIRED = "expired"  # left unsent by a crash and too old to send on restart
    FAILED = "failed"  # the mt5 service was unreachable; the outcome is unknown to this service


_meta = MetaData()
_instances = Table(
    "strategy_instances",
    _meta,
    Column("id", String(16), primary_key=True),
    Column("strategy", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("symbol", String(32), nullable=False),
    Column("timeframe", String(8), nullable=False),
    Column("sizing", Text, nullable=False),
    Column("risk", Text, nullable=False),
    Column("magic", Integer, nullable=False, unique=True),
    Column("state", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("last_bar_time", BigInteger, nullable=True),
    Column("last_signal", Text, nullable=True),
    Column("daily_day", BigInteger, nullable=True),
    Column("daily_pnl", Float, nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
)
_orders = Table(
    "strategy_orders",
    _meta,
    Column("client_id", String(64), primary_key=True),
    Column("instance_id", String(16), nullable=False, index=True),
    Column("bar_time", BigInteger, nullable=False),
    Column("action", String(32), nullable=False),
    Column("request", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("result", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

# The statements of every candle, built once so SQLAlchemy compiles them once and a candle only binds values.
_READ_ORDER = select(_orders).where(_orders.c.client_id == bindparam("id"))
_INSERT_ORDER = insert(_orders)
_FINISH_ORDER = (
    update(_orders)
    .where(_orders.c.client_id == bindparam("id"))
    .values(status=bindparam("status"), result=bindparam("result"), updated_ms=bindparam("now"))
)
_MARK_BAR = (
    update(_instances)
    .where(_instances.c.id == bindparam("instance"))
    .values(last_bar_time=bindparam("bar_time"), last_signal=bindparam("signal"), updated_ms=bindparam("now"))
)


@dataclass(frozen=True, slots=True)
class InstanceRecord:
    """One instance as stored."""

    id: str
    strategy: str
    params: dict[str, Any]
    symbol: str
    timeframe: str
    sizing: SizingConfig
    risk: RiskConfig
    magic: int
    state: InstanceState
    reason: str
    created_ms: int
    updated_ms: int
    last_bar_time: int | None = None
    last_signal: dict[str, Any] | None = None
    daily_day: int | None = None
    daily_pnl: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "strategy": self.strategy,
            "params": self.params,
            "symbol": self.symbol,
            "timeframe": self.timeframe,
            "sizing": self.sizing.model_dump(mode="json"),
            "risk": self.risk.model_dump(),
            "magic": self.magic,
            "state": self.state.value,
            "reason": self.reason,
            "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
            "last_bar_time": self.last_bar_time,
            "last_signal": self.last_signal,
            "daily": {"day": self.daily_day, "pnl": self.daily_pnl},
        }


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One order of an instance: what was sent (or is to be sent) under which client id, and the outcome."""

    client_id: str
    instance_id: str
    bar_time: int
    action: str
    request: dict[str, Any]
    status: OrderStatus = OrderStatus.PENDING
    result: dict[str, Any] | None = None
    created_ms: int = 0
    updated_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "client_id": self.client_id,
            "bar_time": self.bar_time,
            "action": self.action,
            "request": self.request,
            "status": self.status.value,
            "result": self.result,
            "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
        }


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def _instance(row: Row[Any]) -> InstanceRecord:
    return InstanceRecord(
        id=row.id,
        strategy=row.strategy,
        params=orjson.loads(row.params),
        symbol=row.symbol,
        timeframe=row.timeframe,
        sizing=SizingConfig.model_validate_json(row.sizing),
        risk=RiskConfig.model_validate_json(row.risk),
        magic=row.magic,
        state=InstanceState(row.state),
        reason=row.reason,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
        last_bar_time=row.last_bar_time,
        last_signal=orjson.loads(row.last_signal) if row.last_signal else None,
        daily_day=row.daily_day,
        daily_pnl=row.daily_pnl,
    )


def _name_sizing_modes(conn: Connection) -> None:
    """Instances stored before sizing modes were named hold `"mode": 0`, which SizingConfig now refuses:
    without this, one such row would stop the service at every start after an upgrade."""
    names = {mode.value: mode.name.lower() for mode in SizingMode}
    for row in conn.execute(select(_instances.c.id, _instances.c.sizing)):
        sizing = orjson.loads(row.sizing)
        if type(sizing.get("mode")) is int and sizing["mode"] in names:
            named = {**sizing, "mode": names[sizing["mode"]]}
            conn.execute(update(_instances).where(_instances.c.id == row.id).values(sizing=_json(named)))


def _order(row: Row[Any]) -> OrderRecord:
    return OrderRecord(
        client_id=row.client_id,
        instance_id=row.instance_id,
        bar_time=row.bar_time,
        action=row.action,
        request=orjson.loads(row.request),
        status=OrderStatus(row.status),
        result=orjson.loads(row.result) if row.result else None,
        created_ms=row.created_ms,
        updated_ms=row.updated_ms,
    )


class InstanceStore:
    """Instances and orders on `engine`. Synchronous: the async callers run it in `worker`, its one thread."""

    def __init__(
        self,
        engine: Engine,
        *,
        magic_base: int,
        now_ms: Callable[[], int],
        new_id: Callable[[], str] = lambda: secrets.token_hex(ID_BYTES),
        signals_kept: int = 200,
    ) -> None:
        self._engine = engine
        self._magic_base = magic_base
        self._now_ms = now_ms
        self._new_id = new_id
        self.worker = DatabaseThread("strategy-db")  # where the async callers run these methods
        _meta.create_all(engine)
        self._signals = SignalLog(signals_kept)
        with engine.begin() as conn:
            self._signals.create(conn)
            _name_sizing_modes(conn)

    def close(self) -> None:
        """Finish the queued calls; the engine stays its owner's."""
        self.worker.close()

    def create(
        self,
        *,
        strategy: str,
        params: dict[str, Any],
        symbol: str,
        timeframe: str,
        sizing: SizingConfig,
        risk: RiskConfig,
    ) -> InstanceRecord:
        """A new stopped instance with the next unused magic number."""
        now = self._now_ms()
        with self._engine.begin() as conn:
            highest = conn.execute(select(func.max(_instances.c.magic))).scalar()
            magic = self._magic_base if highest is None else highest + 1
            instance_id = self._new_id()
            conn.execute(
                insert(_instances).values(
                    id=instance_id,
                    strategy=strategy,
                    params=_json(params),
                    symbol=symbol,
                    timeframe=timeframe,
                    sizing=sizing.model_dump_json(),
                    risk=risk.model_dump_json(),
                    magic=magic,
                    state=InstanceState.STOPPED.value,
                    reason="created",
                    created_ms=now,
                    updated_ms=now,
                    deleted=False,
                )
            )
        return self.get(instance_id)

    def get(self, instance_id: str) -> InstanceRecord:
        """The instance `instance_id`; NotFoundError when unknown or deleted."""
        with self._engine.connect() as conn:
            row = conn.execute(
                select(_instances).where((_instances.c.id == instance_id) & ~_instances.c.deleted)
            ).first()
        if row is None:
            raise NotFoundError(
                f"no strategy instance {instance_id!r}",
                code="instance_not_found",
                details={"instance": instance_id},
            )
        return _instance(row)

    def instances(self) -> list[InstanceRecord]:
        """Every instance not deleted, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(_instances).where(~_instances.c.deleted).order_by(_instances.c.created_ms)
            ).all()
        return [_instance(row) for row in rows]

    def owned_magics(self) -> set[int]:
        """Magic numbers of the instances not deleted."""
        with self._engine.connect() as conn:
            return set(conn.execute(select(_instances.c.magic).where(~_instances.c.deleted)).scalars())

    def set_state(self, instance_id: str, state: InstanceState, reason: str) -> InstanceRecord:
        self._update(instance_id, state=state.value, reason=reason)
        return self.get(instance_id)

    def update_config(self, instance_id: str, **changes: Any) -> InstanceRecord:
        """Replace params (dict), sizing (SizingConfig) and/or risk (RiskConfig)."""
        values: dict[str, Any] = {}
        if "params" in changes:
            values["params"] = _json(changes["params"])
        for name in ("sizing", "risk"):
            if name in changes:
                values[name] = changes[name].model_dump_json()
        self._update(instance_id, **values)
        return self.get(instance_id)

    def delete(self, instance_id: str) -> None:
        self._update(instance_id, deleted=True, state=InstanceState.STOPPED.value, reason="deleted")

    def set_daily(self, instance_id: str, day: int, pnl: float) -> None:
        self._update(instance_id, daily_day=day, daily_pnl=pnl)

    def record_bar(
        self,
        instance_id: str,
        bar_time: int,
        signal: dict[str, Any],
        orders: Iterable[OrderRecord] = (),
    ) -> list[OrderRecord]:
        """Mark `bar_time` handled and write its orders (and the log entry of a candle not acted on), in one
        transaction; returns the orders as stored (an order whose client id exists keeps its first request)."""
        now = self._now_ms()
        stored = []
        with self._engine.begin() as conn:
            for order in orders:
                existing = self._order_row(conn, order.client_id)
                if existing is None:
                    conn.execute(
                        _INSERT_ORDER,
                        {
                            "client_id": order.client_id,
                            "instance_id": instance_id,
                            "bar_time": order.bar_time,
                            "action": order.action,
                            "request": _json(order.request),
                            "status": OrderStatus.PENDING.value,
                            "created_ms": now,
                            "updated_ms": now,
                        },
                    )
                    existing = self._order_row(conn, order.client_id)
                assert existing is not None
                stored.append(_order(existing))
            conn.execute(
                _MARK_BAR,
                {"instance": instance_id, "bar_time": bar_time, "signal": _json(signal), "now": now},
            )
            entry = candle_entry(signal)
            if entry is not None:
                self._signals.append(conn, instance_id, bar_time, now, entry)
        return stored

    def log_signal(self, instance_id: str, bar_time: int, entry: dict[str, Any]) -> None:
        """Add a decision to the instance's signal log."""
        with self._engine.begin() as conn:
            self._signals.append(conn, instance_id, bar_time, self._now_ms(), entry)

    def signals(self, instance_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The instance's signal log, newest first (at most `limit`, or all that are kept)."""
        with self._engine.connect() as conn:
            return self._signals.read(conn, instance_id, min(limit or self._signals.kept, self._signals.kept))

    def finish_order(self, client_id: str, status: OrderStatus, result: dict[str, Any] | None) -> None:
        """Record the outcome of an order."""
        with self._engine.begin() as conn:
            conn.execute(
                _FINISH_ORDER,
                {"id": client_id, "status": status.value, "result": _json(result), "now": self._now_ms()},
            )

    def orders(
        self, instance_id: str, *, statuses: Iterable[OrderStatus] = (), limit: int | None = None
    ) -> list[OrderRecord]:
        """The instance's orders (those in `statuses`, or all), newest first."""
        query = select(_orders).where(_orders.c.instance_id == instance_id)
        wanted = [s.value for s in statuses]
        if wanted:
            query = query.where(_orders.c.status.in_(wanted))
        query = query.order_by(_orders.c.created_ms.desc(), _orders.c.client_id.desc()).limit(limit)
        with self._engine.connect() as conn:
            return [_order(row) for row in conn.execute(query).all()]

    def _order_row(self, conn: Connection, client_id: str) -> Row[Any] | None:
        return conn.execute(_READ_ORDER, {"id": client_id}).first()

    def _update(self, instance_id: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(_instances)
                .where((_instances.c.id == instance_id) & ~_instances.c.deleted)
                .values(**values, updated_ms=self._now_ms())
            ).rowcount
        if not changed:
            raise NotFoundError(
                f"no strategy instance {instance_id!r}",
                code="instance_not_found",
                details={"instance": instance_id},
            )
