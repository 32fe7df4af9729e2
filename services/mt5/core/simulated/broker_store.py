"""Persistence of the paper account (SQLAlchemy 2): balance, orders, positions, deals, counters, progress.

The broker works on an in-memory `BrokerState` and hands every change of one request (or one tick batch)
to `BrokerStore.commit` as a single transaction, so a crash at any point (kill -9 included) leaves the
database at the previous or the next consistent state, never in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar, get_type_hints

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.sql.dml import Insert, Update

from shared.db import sqlite_engine
from shared.disk_full import StorageState
from shared.errors import ConflictError
from shared.market import mt5_constants as mt5
from shared.market.records import TradeDeal, TradeOrder, TradePosition

SCHEMA_VERSION = 1
FIRST_ORDER_TICKET = 100_000_001
FIRST_DEAL_TICKET = 200_000_001

R = TypeVar("R", bound=NamedTuple)

_metadata = MetaData()


def _record_table(name: str, record: type[Any], *indexed: str) -> Table:
    """A table whose columns are the record's fields, in order, keyed by `ticket`."""
    kinds = {int: BigInteger, float: Float, str: String}
    hints = get_type_hints(record)
    columns = [
        Column(f, kinds[hints[f]](), primary_key=(f == "ticket"), index=(f in indexed))
        for f in record._fields
    ]
    return Table(name, _metadata, *columns)


_meta = Table("meta", _metadata, Column("key", String(64), primary_key=True), Column("value", String(256)))
_account = Table("account", _metadata, Column("id", Integer, primary_key=True), Column("balance", Float))
_counters = Table(
    "counters", _metadata, Column("name", String(32), primary_key=True), Column("value", BigInteger)
)
_feed = Table(
    "feed_progress", _metadata, Column("symbol", String(32), primary_key=True), Column("last_ms", BigInteger)
)
_orders = _record_table("orders", TradeOrder, "state", "position_id", "time_setup")
_positions = _record_table("positions", TradePosition)
_deals = _record_table("deals", TradeDeal, "order", "position_id", "time")


@dataclass
class BrokerState:
    """What the broker keeps in memory: balance, open orders and positions, counters, feed progress."""

    balance: float
    next_order: int = FIRST_ORDER_TICKET
    next_deal: int = FIRST_DEAL_TICKET
    orders: dict[int, TradeOrder] = field(default_factory=dict)
    positions: dict[int, TradePosition] = field(default_factory=dict)
    last_ms: dict[str, int] = field(default_factory=dict)
    # Whether the margin call was announced and the level has not recovered since. Not persisted: it only
    # spares repeated events, and after a restart a standing margin call is announced once more.
    margin_call: bool = False

    def copy(self) -> BrokerState:
        """An independent copy (records are immutable tuples, so copying the dicts suffices)."""
        return BrokerState(
            balance=self.balance,
            next_order=self.next_order,
            next_deal=self.next_deal,
            orders=dict(self.orders),
            positions=dict(self.positions),
            last_ms=dict(self.last_ms),
            margin_call=self.margin_call,
        )


class BrokerStore:
    """The paper account's tables on one engine; the schema is created (or checked) on open."""

    def __init__(self, engine: Engine, storage: StorageState | None = None) -> None:
        self._engine = engine
        self._storage = storage
        _metadata.create_all(engine)
        with engine.begin() as conn:
            row = conn.execute(select(_meta.c.value).where(_meta.c.key == "schema_version")).first()
            if row is None:
                conn.execute(insert(_meta).values(key="schema_version", value=str(SCHEMA_VERSION)))
            elif int(row.value) > SCHEMA_VERSION:
                raise ConflictError(
                    f"broker database schema {row.value} is newer than this code ({SCHEMA_VERSION})",
                    code="schema_too_new",
                    details={"found": int(row.value), "supported": SCHEMA_VERSION},
                )

    @classmethod
    def open(cls, path: Path) -> BrokerStore:
        """A store on a SQLite file (created with its folders when missing)."""
        return cls(sqlite_engine(path))

    @property
    def engine(self) -> Engine:
        return self._engine

    def load(self) -> BrokerState | None:
        """The persisted state, or None when the account was never created."""
        with self._engine.connect() as conn:
            account = conn.execute(select(_account.c.balance).where(_account.c.id == 1)).first()
            if account is None:
                return None
            counters = {r.name: r.value for r in conn.execute(select(_counters))}
            orders = conn.execute(select(_orders).where(_orders.c.state == mt5.ORDER_STATE_PLACED))
            positions = conn.execute(select(_positions))
            return BrokerState(
                balance=account.balance,
                next_order=counters.get("order", FIRST_ORDER_TICKET),
                next_deal=counters.get("deal", FIRST_DEAL_TICKET),
                orders={r.ticket: TradeOrder(*r) for r in orders},
                positions={r.ticket: TradePosition(*r) for r in positions},
                last_ms={r.symbol: r.last_ms for r in conn.execute(select(_feed))},
            )

    def commit(
        self,
        before: BrokerState | None,
        after: BrokerState,
        *,
        finished_orders: Sequence[TradeOrder] = (),
        deals: Sequence[TradeDeal] = (),
    ) -> None:
        """Persist the difference between two states plus new history rows, in one transaction."""
        old = before or BrokerState(balance=float("nan"), next_order=-1, next_deal=-1)
        # A full disk raises DiskFullError (507) and is reported once; the broker keeps its saved state.
        guard = self._storage.writing("paper broker") if self._storage is not None else nullcontext()
        with guard, self._engine.begin() as conn:
            if before is None or old.balance != after.balance:
                _ACCOUNT.write(conn, {"id": 1, "balance": after.balance})
            for name, value, was in (
                ("order", after.next_order, old.next_order),
                ("deal", after.next_deal, old.next_deal),
            ):
                if value != was:
                    _COUNTERS.write(conn, {"name": name, "value": value})
            for symbol, ms in after.last_ms.items():
                if old.last_ms.get(symbol) != ms:
                    _FEED.write(conn, {"symbol": symbol, "last_ms": ms})
            changed_orders = [o for t, o in after.orders.items() if old.orders.get(t) is not o]
            for order in [*changed_orders, *finished_orders]:
                _ORDERS.write(conn, order._asdict())
            for ticket, position in after.positions.items():
                if old.positions.get(ticket) is not position:
                    _POSITIONS.write(conn, position._asdict())
            gone = [t for t in old.positions if t not in after.positions]
            if gone:
                conn.execute(delete(_positions).where(_positions.c.ticket.in_(gone)))
            if deals:
                conn.execute(_INSERT_DEAL, [d._asdict() for d in deals])

    def history_orders(
        self,
        *,
        time_from_s: int | None = None,
        time_to_s: int | None = None,
        ticket: int | None = None,
        position: int | None = None,
    ) -> list[TradeOrder]:
        """Finished orders (filled, cancelled, rejected, expired), oldest first."""
        query = select(_orders).where(_orders.c.state != mt5.ORDER_STATE_PLACED)
        query = _filtered(
            query, _orders, _orders.c.time_setup, time_from_s, time_to_s, ticket, position, _orders.c.ticket
        )
        return self._rows(query.order_by(_orders.c.time_setup_msc, _orders.c.ticket), TradeOrder)

    def history_deals(
        self,
        *,
        time_from_s: int | None = None,
        time_to_s: int | None = None,
        order: int | None = None,
        position: int | None = None,
    ) -> list[TradeDeal]:
        """Deals, oldest first; `order` filters by the order ticket, `position` by position id."""
        query = _filtered(
            select(_deals), _deals, _deals.c.time, time_from_s, time_to_s, order, position, _deals.c.order
        )
        return self._rows(query.order_by(_deals.c.time_msc, _deals.c.ticket), TradeDeal)

    def _rows(self, query: Any, record: type[R]) -> list[R]:
        with self._engine.connect() as conn:
            return [record(*row) for row in conn.execute(query)]


def _filtered(
    query: Any,
    table: Table,
    time_col: Any,
    time_from_s: int | None,
    time_to_s: int | None,
    ticket: int | None,
    position: int | None,
    ticket_col: Any,
) -> Any:
    if time_from_s is not None:
        query = query.where(time_col >= time_from_s)
    if time_to_s is not None:
        query = query.where(time_col <= time_to_s)
    if ticket is not None:
        query = query.where(ticket_col == ticket)
    if position is not None:
        query = query.where(table.c.position_id == position)
    return query


class _Upsert:
    """Update the row with this key, or insert it; portable (no dialect-specific ON CONFLICT).

    Both statements are built once with bound parameters, so SQLAlchemy compiles them once and every
    commit only binds values (building `update().values(**row)` per row cost more than the SQL itself).
    """

    def __init__(self, table: Table, key: str) -> None:
        names = [column.name for column in table.columns]
        self._update: Update = (
            update(table)
            .where(table.c[key] == bindparam(f"p_{key}"))
            .values({name: bindparam(f"p_{name}") for name in names if name != key})
        )
        self._insert: Insert = insert(table).values({name: bindparam(f"p_{name}") for name in names})

    def write(self, conn: Connection, row: dict[str, Any]) -> None:
        params = {f"p_{name}": value for name, value in row.items()}
        if conn.execute(self._update, params).rowcount == 0:
            conn.execute(self._insert, params)


_ACCOUNT = _Upsert(_account, "id")
_COUNTERS = _Upsert(_counters, "name")
_FEED = _Upsert(_feed, "symbol")
_ORDERS = _Upsert(_orders, "ticket")
_POSITIONS = _Upsert(_positions, "ticket")
_INSERT_DEAL = insert(_deals)
