"""Request and response models of the mt5 service.

Trade requests use MT5's field names; `action`, `type`, `type_filling` and `type_time` accept MT5's
integer values or their names ("BUY", "ORDER_TYPE_SELL_LIMIT", "PENDING", "IOC", "GTC", any case).
Response models mirror MT5's records field for field (built from the named tuples, so they cannot drift).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple, get_type_hints

from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    create_model,
    model_validator,
)

from shared.errors import InvalidInputError
from shared.market import mt5_constants as mt5
from shared.market.records import (
    AccountInfo,
    OrderCheckResult,
    OrderSendResult,
    SymbolInfo,
    TerminalInfo,
    Tick,
    TradeDeal,
    TradeOrder,
    TradePosition,
    TradeRequest,
)
from shared.service_app import ErrorDetail
from shared.utils import parse_time_s

CLIENT_ORDER_ID = Field(
    default=None,
    min_length=1,
    max_length=64,
    description="your id for this order: sending the same id again returns the first result, never a second order",
)


def _constants(prefix: str) -> dict[str, int]:
    return {name.removeprefix(prefix): value for name, value in vars(mt5).items() if name.startswith(prefix)}


def _mt5_enum(prefix: str, what: str) -> BeforeValidator:
    """Accept an MT5 constant by value or by name (with or without `prefix`), case-insensitive."""
    by_name = _constants(prefix)
    values = set(by_name.values())

    def parse(value: Any) -> int:
        if isinstance(value, str) and not value.strip().lstrip("-").isdigit():
            name = value.strip().upper().removeprefix(prefix)
            if name in by_name:
                return by_name[name]
            raise ValueError(f"unknown {what} {value!r}; expected one of {', '.join(by_name)}")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"{what} must be a name or an integer")
        number = int(value)
        if number not in values:
            raise ValueError(f"unknown {what} {number}; expected one of {sorted(values)}")
        return number

    return BeforeValidator(parse, json_schema_input_type=int | str)


def _epoch_s(value: Any) -> int:
    if isinstance(value, float):
        raise ValueError("expiration must be whole epoch seconds or ISO-8601")
    if value in (0, "0") and not isinstance(value, bool):
        return 0
    try:
        return parse_time_s(value, field="expiration")
    except InvalidInputError as exc:
        # Re-raised as a ValueError so pydantic names the field (and lets an optional one be null).
        raise ValueError(exc.message) from None


Action = Annotated[int, _mt5_enum("TRADE_ACTION_", "action")]
OrderType = Annotated[int, _mt5_enum("ORDER_TYPE_", "order type")]
Filling = Annotated[int, _mt5_enum("ORDER_FILLING_", "filling mode")]
TimeType = Annotated[int, _mt5_enum("ORDER_TIME_", "time type")]
# Tickets, magics and point counts are 64-bit in MT5 (and in the paper broker's SQLite): larger is refused.
INT64_MAX = 2**63 - 1
NonNegativeInt64 = Annotated[int, Field(ge=0, le=INT64_MAX)]
TicketPath = Annotated[int, Path(ge=0, le=INT64_MAX, description="the order's or position's ticket")]
Expiration = Annotated[
    int,
    BeforeValidator(_epoch_s),
    Field(ge=0, le=INT64_MAX),
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": INT64_MAX}, {"type": "string"}],
            "description": "epoch seconds or ISO-8601; 0: none",
        }
    ),
]
# Trade requests take numbers as JSON numbers only (lax parsing would make `"volume": true` one lot), and
# finite ones: JSON parsers accept NaN and Infinity, the money arithmetic does not.
REQUEST_CONFIG = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
_MARKET_TYPES = (mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL)


class OrderCreate(BaseModel):
    """An MT5 trade request (order_send), plus an optional client order id."""

    model_config = REQUEST_CONFIG

    action: Action | None = Field(
        default=None, description="TRADE_ACTION_*; default DEAL for BUY/SELL, PENDING for other types"
    )
    symbol: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True)] = Field(
        default="", max_length=32, description="case-insensitive; empty where the action needs none"
    )
    volume: float = 0.0
    type: OrderType = mt5.ORDER_TYPE_BUY
    price: float = 0.0
    stoplimit: float = 0.0
    sl: float = 0.0
    tp: float = 0.0
    deviation: NonNegativeInt64 = Field(default=0, description="points")
    type_filling: Filling = mt5.ORDER_FILLING_FOK
    type_time: TimeType = mt5.ORDER_TIME_GTC
    expiration: Expiration = 0
    magic: NonNegativeInt64 = 0
    comment: str = Field(default="", max_length=31)
    position: NonNegativeInt64 = 0
    position_by: NonNegativeInt64 = 0
    order: NonNegativeInt64 = 0
    client_order_id: str | None = CLIENT_ORDER_ID

    @model_validator(mode="after")
    def _default_action(self) -> OrderCreate:
        if self.action is None:
            pending = self.type not in _MARKET_TYPES
            self.action = mt5.TRADE_ACTION_PENDING if pending else mt5.TRADE_ACTION_DEAL
        return self

    def mt5_request(self) -> dict[str, Any]:
        """The request as the terminal takes it (MT5's fields only)."""
        return self.model_dump(include=set(TradeRequest._fields))


class OrderUpdate(BaseModel):
    """New values for a pending order; omitted fields keep their current values."""

    model_config = REQUEST_CONFIG

    price: float | None = None
    sl: float | None = None
    tp: float | None = None
    type_time: TimeType | None = None
    expiration: Expiration | None = None


class PositionUpdate(BaseModel):
    """New SL/TP of a position (0 removes one); omitted fields keep their current values."""

    model_config = REQUEST_CONFIG

    sl: float | None = None
    tp: float | None = None


class PositionClose(BaseModel):
    """Close a position: all of it, or `volume` lots of it."""

    model_config = REQUEST_CONFIG

    volume: float | None = Field(default=None, description="lots to close; default: the whole position")
    price: float = Field(default=0.0, ge=0, description="expected price; refused beyond `deviation`")
    deviation: NonNegativeInt64 = 0
    magic: NonNegativeInt64 = 0
    comment: str = Field(default="", max_length=31)
    client_order_id: str | None = CLIENT_ORDER_ID


MAX_BATCH = 100


class BatchOrder(OrderCreate):
    """An order of a batch: the fields of POST /orders."""

    kind: Literal["order"]


class BatchClose(PositionClose):
    """A close of a batch: the position's ticket plus the fields of POST /positions/{ticket}/close."""

    kind: Literal["close"]
    ticket: int = Field(ge=0, le=INT64_MAX, description="the position's ticket")


class OrderBatchCreate(BaseModel):
    """Trade requests sent one after another in one call, each on its own: a refusal does not stop the rest."""

    model_config = REQUEST_CONFIG

    requests: list[Annotated[BatchOrder | BatchClose, Field(discriminator="kind")]] = Field(
        min_length=1, max_length=MAX_BATCH
    )


class HaltRequest(BaseModel):
    model_config = REQUEST_CONFIG

    reason: str = Field(default="", max_length=200)


def _model_of(record: type[NamedTuple], name: str, **extra: Any) -> type[BaseModel]:
    """A response model with the record's fields and types, in MT5's order."""
    fields: dict[str, Any] = {f: (t, ...) for f, t in get_type_hints(record).items()}
    return create_model(name, __doc__=f"MT5's {record.__name__}.", **{**fields, **extra})


AccountRead = _model_of(AccountInfo, "AccountRead")
TerminalRead = _model_of(TerminalInfo, "TerminalRead")
SymbolRead = _model_of(SymbolInfo, "SymbolRead")
TickRead = _model_of(Tick, "TickRead")
# MT5's TradePosition has no commission: the service adds its entry deals' (see core/position_costs.py).
PositionRead = _model_of(TradePosition, "PositionRead", commission=(float, ...))
OrderRead = _model_of(TradeOrder, "OrderRead")
DealRead = _model_of(TradeDeal, "DealRead")
TradeRequestRead = _model_of(TradeRequest, "TradeRequestRead")
OrderResultRead = _model_of(
    OrderSendResult,
    "OrderResultRead",
    request=(TradeRequestRead, ...),
    retcode_name=(str, ...),
    client_order_id=(str | None, None),
)
OrderCheckRead = _model_of(
    OrderCheckResult,
    "OrderCheckRead",
    request=(TradeRequestRead, ...),
    retcode_name=(str, ...),
    risk_violation=(dict[str, Any] | None, None),
)


class BatchOutcomeRead(BaseModel):
    """One request's outcome: the status it would have answered alone, and its result or its error."""

    status: int
    result: OrderResultRead | None = None  # type: ignore[valid-type]
    error: ErrorDetail | None = None


class OrderBatchRead(BaseModel):
    results: list[BatchOutcomeRead] = Field(description="one per request, in the order sent")


# Lists of the records, for `response_model=`: runtime types that mypy cannot see through create_model.
SymbolList: Any = list[SymbolRead]  # type: ignore[valid-type]
PositionList: Any = list[PositionRead]  # type: ignore[valid-type]
OrderList: Any = list[OrderRead]  # type: ignore[valid-type]
DealList: Any = list[DealRead]  # type: ignore[valid-type]


class ConnectionRead(BaseModel):
    ok: bool
    backend: str
    state: str
    reason: str
    failed_attempts: int
    next_attempt_in_s: float | None = None


class TradingStatusRead(BaseModel):
    mode: str
    live_allowed: bool
    backend: str
    halted: bool
    reason: str
    since_ms: int | None
    limits: dict[str, Any]


def order_result_body(result: OrderSendResult, client_order_id: str | None = None) -> dict[str, Any]:
    """An accepted OrderSendResult as the JSON body: MT5's fields, the retcode's name, the client id."""
    return {
        **result._asdict(),
        "request": result.request._asdict(),
        "retcode_name": mt5.TradeRetcode(result.retcode).name,
        "client_order_id": client_order_id,
    }
