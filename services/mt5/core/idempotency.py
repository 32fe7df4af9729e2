"""Client order ids: the same id sent twice never trades twice; the retry gets the first result.

Works around any terminal adapter (`send` is whatever reaches the terminal). The id is claimed by inserting
a row under a unique key before sending, so two concurrent requests with one id cannot both pass: the
loser of the insert waits for the winner's result (same process) or is told the order is in flight. The
result is stored as JSON in the same database, so a retry after a restart gets it too. When `send`
returns None (the terminal did not take the request) or raises, the claim is released so a retry may send.
A claim left by a crash between send and store stays "in flight" (409) until the next start settles it
against the terminal's orders and deals (see claim_recovery): the claim keeps the request for that.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from shared.errors import ConflictError, InvalidInputError
from shared.market.records import OrderSendResult, TradeRequest

MAX_CLIENT_ID_LENGTH = 64

_metadata = MetaData()
_client_orders = Table(
    "client_order_ids",
    _metadata,
    Column("client_id", String(MAX_CLIENT_ID_LENGTH), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("result_json", Text, nullable=True),  # NULL while the order is in flight
    # The request as sent, to find its order in the terminal's history after a crash (NULL in old files).
    Column("request_json", Text, nullable=True),
)
# Built once: SQLAlchemy then compiles each once, and an order only binds values (three per order).
_CLAIM = insert(_client_orders)
_STORE_RESULT = (
    update(_client_orders)
    .where(_client_orders.c.client_id == bindparam("id"))
    .values(result_json=bindparam("result"))
)
_RELEASE = delete(_client_orders).where(
    (_client_orders.c.client_id == bindparam("id")) & _client_orders.c.result_json.is_(None)
)
_READ = select(_client_orders).where(_client_orders.c.client_id == bindparam("id"))
_UNSETTLED = select(_client_orders).where(_client_orders.c.result_json.is_(None))
_SETTLED_RESULTS = select(_client_orders.c.result_json).where(_client_orders.c.result_json.is_not(None))


@dataclass(frozen=True, slots=True)
class Claim:
    """A claimed id without a result: its order is in flight, or its process died while sending it."""

    client_id: str
    created_ms: int
    request: dict[str, Any] | None  # None: claimed by a version that did not keep the request


def result_to_json(result: OrderSendResult) -> bytes:
    """OrderSendResult (with its nested request) as JSON."""
    return orjson.dumps({**result._asdict(), "request": result.request._asdict()})


def result_from_json(data: bytes | str) -> OrderSendResult:
    """The OrderSendResult `result_to_json` wrote."""
    fields = orjson.loads(data)
    return OrderSendResult(**{**fields, "request": TradeRequest(**fields["request"])})


def request_fingerprint(request: Mapping[str, Any]) -> str:
    """A digest of the request, to tell a retry from a different order reusing the id."""
    return hashlib.sha256(orjson.dumps(dict(request), option=orjson.OPT_SORT_KEYS)).hexdigest()


class ClientOrderIds:
    """Exactly-once order_send per client order id, persisted on `engine`."""

    def __init__(self, engine: Engine, *, now_ms: Callable[[], int], wait_timeout_s: float = 30.0) -> None:
        self._engine = engine
        self._now_ms = now_ms
        self._wait_timeout_s = wait_timeout_s
        self._in_flight: dict[str, threading.Event] = {}
        self._guard = threading.Lock()
        _metadata.create_all(engine)
        _add_request_column(engine)

    def send_once(
        self,
        client_id: str,
        request: Mapping[str, Any],
        send: Callable[[Mapping[str, Any]], OrderSendResult | None],
    ) -> OrderSendResult | None:
        """`send(request)` the first time `client_id` is seen; the stored first result afterwards."""
        _validate(client_id)
        fingerprint = request_fingerprint(request)
        done = threading.Event()
        with self._guard:
            waiting_on = self._in_flight.get(client_id)
            if waiting_on is None:
                self._in_flight[client_id] = done
        if waiting_on is not None:  # another thread of this process is sending this id now
            waiting_on.wait(self._wait_timeout_s)
            return self._stored(client_id, fingerprint)
        try:
            if not self._claim(client_id, fingerprint, request):
                return self._stored(client_id, fingerprint)
            return self._send_claimed(client_id, request, send)
        finally:
            with self._guard:
                del self._in_flight[client_id]
            done.set()

    def claim(self, client_id: str, request: Mapping[str, Any]) -> bool:
        """Claim `client_id` for `request` without sending; False when it is already claimed."""
        _validate(client_id)
        return self._claim(client_id, request_fingerprint(request), request)

    def unsettled(self) -> list[Claim]:
        """The claims without a result, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(_UNSETTLED).all()
        claims = [
            Claim(r.client_id, r.created_ms, orjson.loads(r.request_json) if r.request_json else None)
            for r in rows
        ]
        return sorted(claims, key=lambda c: c.created_ms)

    def settled_orders(self) -> set[int]:
        """The order tickets of the stored results: orders already attributed to an id."""
        with self._engine.connect() as conn:
            rows = conn.execute(_SETTLED_RESULTS).all()
        return {result_from_json(row.result_json).order for row in rows} - {0}

    def settle(self, client_id: str, result: OrderSendResult) -> None:
        """Store `result` as the outcome of the claimed `client_id` (done)."""
        with self._engine.begin() as conn:
            conn.execute(_STORE_RESULT, {"id": client_id, "result": result_to_json(result).decode()})

    def release(self, client_id: str) -> None:
        """Drop the claim of `client_id` (free: the terminal never took its order); a result stays."""
        self._release(client_id)

    def lookup(self, client_id: str) -> OrderSendResult | None:
        """The stored result for `client_id`, or None when unknown or still in flight."""
        with self._engine.connect() as conn:
            row = conn.execute(_READ, {"id": client_id}).first()
        return result_from_json(row.result_json) if row is not None and row.result_json else None

    def _send_claimed(
        self,
        client_id: str,
        request: Mapping[str, Any],
        send: Callable[[Mapping[str, Any]], OrderSendResult | None],
    ) -> OrderSendResult | None:
        try:
            result = send(request)
        except BaseException:
            self._release(client_id)
            raise
        if result is None:
            self._release(client_id)
            return None
        self.settle(client_id, result)
        return result

    def _claim(self, client_id: str, fingerprint: str, request: Mapping[str, Any]) -> bool:
        """Insert the claim row; False when the id already exists (the unique key decides, atomically)."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    _CLAIM,
                    {
                        "client_id": client_id,
                        "fingerprint": fingerprint,
                        "created_ms": self._now_ms(),
                        "result_json": None,
                        "request_json": orjson.dumps(dict(request)).decode(),
                    },
                )
        except IntegrityError:
            return False
        return True

    def _release(self, client_id: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(_RELEASE, {"id": client_id})

    def _stored(self, client_id: str, fingerprint: str) -> OrderSendResult | None:
        with self._engine.connect() as conn:
            row = conn.execute(_READ, {"id": client_id}).first()
        if row is None:  # the first sender's claim was released: the terminal never took the order
            return None
        if row.fingerprint != fingerprint:
            raise ConflictError(
                f"client order id {client_id!r} was already used for a different request",
                code="client_order_id_reused",
                details={"client_order_id": client_id},
            )
        if row.result_json is None:
            raise ConflictError(
                f"order with client order id {client_id!r} is in flight or its outcome is unknown; "
                "check orders and deals before sending it again",
                code="client_order_in_flight",
                details={"client_order_id": client_id, "since_ms": row.created_ms},
            )
        return result_from_json(row.result_json)


def _add_request_column(engine: Engine) -> None:
    """Add `request_json` to a table created before it existed (create_all adds tables, not columns)."""
    columns = {c["name"] for c in inspect(engine).get_columns(_client_orders.name)}
    if "request_json" not in columns:
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {_client_orders.name} ADD COLUMN request_json TEXT"))


def _validate(client_id: str) -> None:
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_LENGTH:
        raise InvalidInputError(
            f"client_order_id must be 1 to {MAX_CLIENT_ID_LENGTH} characters",
            details={"field": "client_order_id", "max_length": MAX_CLIENT_ID_LENGTH},
        )
