"""Table shapes of the data service, and the versioned schema of its catalog database.

Ticks live in one table per (symbol, partition); the symbol is implied by the table (or file), so a tick
row is `(time_msc, seq, bid, ask, last, volume, flags, volume_real)` keyed by `(time_msc, seq)`. `seq` is
the tick's index within its millisecond as the terminal returns it for a range starting at or before that
millisecond, so a re-fetched overlapping range yields the same keys and inserts nothing twice.

The catalog (bars, gap marks, builder cursors) is one database with a `schema_version` table; start-up
applies the migrations above the stored version in order.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Double,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    select,
)


def tick_table(name: str, metadata: MetaData | None = None) -> Table:
    """The tick table of one partition (WITHOUT ROWID on SQLite: the key is the clustered order)."""
    return Table(
        name,
        metadata or MetaData(),
        Column("time_msc", BigInteger, nullable=False),
        Column("seq", Integer, nullable=False),
        Column("bid", Double, nullable=False),
        Column("ask", Double, nullable=False),
        Column("last", Double, nullable=False),
        Column("volume", BigInteger, nullable=False),
        Column("flags", Integer, nullable=False),
        Column("volume_real", Double, nullable=False),
        PrimaryKeyConstraint("time_msc", "seq"),
        sqlite_with_rowid=False,
    )


CATALOG = MetaData()

schema_version = Table(
    "schema_version",
    CATALOG,
    Column("component", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
)

bars = Table(
    "bars",
    CATALOG,
    Column("symbol", String(32), nullable=False),
    Column("timeframe", String(4), nullable=False),
    Column("time", BigInteger, nullable=False),
    Column("open", Double, nullable=False),
    Column("high", Double, nullable=False),
    Column("low", Double, nullable=False),
    Column("close", Double, nullable=False),
    Column("tick_volume", BigInteger, nullable=False),
    Column("spread", Integer, nullable=False),
    Column("real_volume", BigInteger, nullable=False),
    Column("source", String(8), nullable=False),
    PrimaryKeyConstraint("symbol", "timeframe", "time"),
    sqlite_with_rowid=False,
)

# Ranges the terminal had no data for: reported by completeness, skipped by gap fill.
unfillable_ranges = Table(
    "unfillable_ranges",
    CATALOG,
    Column("symbol", String(32), nullable=False),
    Column("timeframe", String(4), nullable=False),
    Column("from_s", BigInteger, nullable=False),
    Column("to_s", BigInteger, nullable=False),
    PrimaryKeyConstraint("symbol", "timeframe", "from_s"),
)

# The last tick whose effect on the bars is stored, written in the same transaction as those bars, so a
# restarted builder replays exactly the ticks after it.
bar_cursors = Table(
    "bar_cursors",
    CATALOG,
    Column("symbol", String(32), primary_key=True),
    Column("time_msc", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
)

_COMPONENT = "data"


def _create_v1(connection: Connection) -> None:
    CATALOG.create_all(connection, tables=[bars, unfillable_ranges, bar_cursors])


# version -> step bringing the schema from version-1 to version; later changes append here.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_v1}
SCHEMA_VERSION = max(MIGRATIONS)


def migrate(engine: Engine) -> int:
    """Create or upgrade the catalog schema to SCHEMA_VERSION; returns the version found before."""
    with engine.begin() as connection:
        CATALOG.create_all(connection, tables=[schema_version])
        found = connection.execute(
            select(schema_version.c.version).where(schema_version.c.component == _COMPONENT)
        ).scalar_one_or_none()
        current = found or 0
        for version in range(current + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[version](connection)
        if found is None:
            connection.execute(schema_version.insert().values(component=_COMPONENT, version=SCHEMA_VERSION))
        elif current < SCHEMA_VERSION:
            connection.execute(
                schema_version.update()
                .where(schema_version.c.component == _COMPONENT)
                .values(version=SCHEMA_VERSION)
            )
    return current
