"""The typed payloads (`data`) of the platform's events, and the envelope every event travels in.

Payloads are frozen pydantic models: a publisher builds one, the bus sends `wire()` (the fields the publisher
set, by their wire names), and a reader may validate a received `data` with the same model. A payload whose
publishers add context fields of their own (an alert's details, a job's summary) allows extra fields.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypedDict

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class EventEnvelope(TypedDict):
    """Every event on every stream: `seq` increases per source; `type` is a catalog name; `ts` epoch ms UTC."""

    seq: int
    ts: int
    source: str
    type: str
    data: dict[str, Any]


class Payload(BaseModel):
    """Base of every event payload."""

    model_config = ConfigDict(frozen=True)

    def wire(self) -> dict[str, Any]:
        """The `data` of the envelope: the fields set by the publisher (a default it left out stays out,
        as before the catalog), under their wire names (`from`), then any extra fields.

        Equal to `model_dump(by_alias=True, exclude_unset=True)` for these flat models, at a third of its
        cost: ticks and broker events are published on hot paths."""
        names = _wire_names(type(self))
        data = {
            names.get(k, k): v.wire() if isinstance(v, Payload) else v
            for k, v in self.__dict__.items()
            if k in self.model_fields_set
        }
        if self.__pydantic_extra__:
            data.update(self.__pydantic_extra__)
        return data


@functools.cache
def _wire_names(cls: type[Payload]) -> dict[str, str]:
    return {name: f.serialization_alias for name, f in cls.model_fields.items() if f.serialization_alias}


class OpenPayload(Payload):
    """A payload whose publishers add fields of their own beside the typed ones."""

    model_config = ConfigDict(frozen=True, extra="allow")


Publish = Callable[[str, Payload], None]
"""Publishes one event: a catalog type and its payload (`EventBus.publish` or `publish_threadsafe`)."""


# ----- market -------------------------------------------------------------------------------------------


class TickData(Payload):
    """One quote of a symbol, fields as MT5's Tick tuple."""

    symbol: str
    time: int
    bid: float
    ask: float
    last: float
    volume: int
    time_msc: int
    flags: int
    volume_real: float


class OHLCData(Payload):
    """One bar, fields as MT5's rates dtype; `time` is the bar open (epoch s, UTC)."""

    time: int
    open: float
    high: float
    low: float
    close: float
    tick_volume: int
    spread: int
    real_volume: int


class CandleClosed(Payload):
    """A bar that closed; `backfill` when it closed before collection caught up (history, never a signal)."""

    symbol: str
    timeframe: str
    bar: OHLCData
    market_ms: int
    backfill: bool


class PatternDetected(Payload):
    symbol: str
    timeframe: str
    time: int
    pattern: str
    direction: str
    strength: int | float
    backfill: bool


class ImportProgress(Payload):
    symbol: str
    bytes_read: int
    total_bytes: int
    percent: float


# ----- trading ------------------------------------------------------------------------------------------


class Signal(Payload):
    """A strategy instance's decision: `direction` long, short or flat; `refused` names a risk refusal."""

    instance: str
    symbol: str
    timeframe: str
    bar_time: int
    direction: str
    action: str
    reason: str
    refused: str | None


class OrderEvent(OpenPayload):
    """An order's record (MT5's TradeOrder or OrderSendResult fields, or a refusal's details); `symbol` is
    missing only from a refused request that named none."""

    symbol: str | None = None


class PositionEvent(OpenPayload):
    """A position's record (MT5's TradePosition fields), with the deal that changed it."""

    symbol: str
    ticket: int


class AccountUpdated(Payload):
    balance: float


class MarginCall(Payload):
    time_msc: int
    margin_level: float
    equity: float
    margin: float
    balance: float
    margin_call_level: float


class StopOut(Payload):
    time_msc: int
    margin_level: float
    equity: float
    margin: float
    stop_out_level: float
    position: int
    symbol: str
    order: int
    deal: int
    profit: float


# ----- state changes ------------------------------------------------------------------------------------


class TerminalConnection(Payload):
    backend: str
    from_: str = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: str
    reason: str


class TerminalConnected(Payload):
    """The terminal answers and is connected to its trade server: orders are accepted again."""

    backend: str
    reason: str


class TerminalDisconnected(Payload):
    """The terminal went away or lost its trade server (`state` "lost": reconnecting with backoff), or was
    disconnected on request ("disconnected"); orders are refused with 503 `terminal_unavailable` meanwhile."""

    backend: str
    state: str
    reason: str
    next_attempt_in_s: float | None = None


class ServiceStatusChanged(Payload):
    service: str
    from_: str = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: str
    state: str
    reason: str
    pid: int | None
    restarts: int


class StrategyStatus(OpenPayload):
    """An instance's state change; a start also says which positions it adopted."""

    instance: str
    symbol: str
    timeframe: str
    from_: str = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: str
    reason: str


class Alert(OpenPayload):
    """Something an operator should see; `code` says what, the other fields depend on it (the subclasses
    below type the codes' own fields; an instance's alerts add their error's fields)."""

    code: str
    message: str | None = None
    symbol: str | None = None


class StorageAlert(Alert):
    """`disk_full`: `active` while writes wait for space."""

    active: bool
    where: str
    since_ms: int | None = None


class CollectionStalled(Alert):
    """`collection_stalled`: a symbol's collection stopped (or resumed) following the market."""

    active: bool
    since_ms: int
    market_ms: int
    reason: str


class WorldChanged(Alert):
    """`market_world_changed`: the data service left one market world's stores for another."""

    from_: str = Field(validation_alias=AliasChoices("from", "from_"), serialization_alias="from")
    to: str


class OrphanPositions(Alert):
    """`orphan_positions`: positions in the platform's magic range that no instance owns."""

    positions: list[dict[str, Any]]


class AlertDelivery(Payload):
    """An alert rule's message was sent on a channel, or failed to be (`reason` says why)."""

    id: int
    rule_id: int | None
    rule_name: str
    event_type: str
    channel: str
    status: str
    reason: str
    attempts: int
    title: str
    time_ms: int


# ----- jobs ---------------------------------------------------------------------------------------------


class JobProgress(OpenPayload):
    """A running job's progress; the job's own fields (and its symbol, strategy or name) beside it."""

    job_id: str
    percent: float
    message: str


class JobCompleted(OpenPayload):
    job_id: str


class JobFailed(OpenPayload):
    """A job that failed or was cancelled (`reason` "cancelled")."""

    job_id: str
    reason: str | None


class OptimizationTrial(Payload):
    """One finished trial of a model-based optimisation (`state` "invalid": a constraint or the parameter
    model refused it, no backtest ran), with the best so far by the first objective."""

    job_id: str
    trial: int
    state: str
    params: dict[str, Any]
    values: list[float | None] | None
    done: int
    total: int
    best_params: dict[str, Any] | None
    best_values: list[float | None] | None


class ModelTrained(OpenPayload):
    """The model a completed training job registered (the job's result fields)."""

    job_id: str


# ----- streams ------------------------------------------------------------------------------------------


class Heartbeat(Payload):
    pass


class Lagged(Payload):
    """A stream client fell behind and lost its `dropped` oldest events."""

    dropped: int


class HubSnapshot(Payload):
    """Every service's state, sent first to a hub client."""

    services: list[dict[str, Any]]
