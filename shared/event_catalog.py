"""Every event type the platform publishes: its name, its payload model, who publishes it and what it means.

To add an event type, copy one `_event(...)` line below (and a payload model in `shared/event_payloads.py`
if none fits), publish it as `publish(NEW_TYPE, NewPayload(...))`, and regenerate the README's table with
`python -m shared.event_catalog` (a test checks the README against this catalog).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared import event_payloads as p


@dataclass(frozen=True, slots=True)
class EventSpec:
    name: str
    payload: type[p.Payload]
    publishers: str
    description: str


CATALOG: dict[str, EventSpec] = {}


def _event(name: str, payload: type[p.Payload], publishers: str, description: str) -> str:
    if name in CATALOG:
        raise ValueError(f"event type {name!r} is in the catalog twice")
    CATALOG[name] = EventSpec(name, payload, publishers, description)
    return name


# ----- market -------------------------------------------------------------------------------------------
TICK = _event(
    "tick",
    p.TickData,
    "mt5, data",
    "a symbol's latest quote (data: at most one per `tick_event_interval_ms`)",
)
CANDLE_CLOSED = _event(
    "candle.closed", p.CandleClosed, "data", "a bar closed (`backfill`: history, never a signal)"
)
PATTERN_DETECTED = _event(
    "pattern.detected", p.PatternDetected, "pattern", "a candlestick pattern on a closed bar"
)
IMPORT_PROGRESS = _event("import.progress", p.ImportProgress, "data", "bytes read of an MT5 CSV import")

# ----- trading ------------------------------------------------------------------------------------------
SIGNAL = _event("signal", p.Signal, "strategy", "a strategy instance's decision on a closed bar")
ORDER_PLACED = _event("order.placed", p.OrderEvent, "mt5", "a pending order was placed")
ORDER_FILLED = _event("order.filled", p.OrderEvent, "mt5", "an order was filled (fully or partly)")
ORDER_MODIFIED = _event(
    "order.modified", p.OrderEvent, "mt5", "a pending order's price, stops or expiry changed"
)
ORDER_REJECTED = _event(
    "order.rejected", p.OrderEvent, "mt5", "an order was refused (by the broker or a risk rule)"
)
ORDER_CANCELLED = _event("order.cancelled", p.OrderEvent, "mt5", "a pending order was cancelled or expired")
POSITION_OPENED = _event("position.opened", p.PositionEvent, "mt5", "a position was opened")
POSITION_MODIFIED = _event(
    "position.modified", p.PositionEvent, "mt5", "a position's stops or volume changed"
)
POSITION_CLOSED = _event(
    "position.closed", p.PositionEvent, "mt5", "a position was closed (`deal`, `profit`)"
)
ACCOUNT_UPDATED = _event("account.updated", p.AccountUpdated, "mt5", "the balance changed")
ACCOUNT_MARGIN_CALL = _event(
    "account.margin_call", p.MarginCall, "mt5", "the margin level fell to the call level"
)
ACCOUNT_STOP_OUT = _event("account.stop_out", p.StopOut, "mt5", "a position was closed at the stop-out level")

# ----- state changes ------------------------------------------------------------------------------------
TERMINAL_CONNECTION = _event(
    "terminal.connection", p.TerminalConnection, "mt5", "the terminal connection's state changed"
)
TERMINAL_CONNECTED = _event(
    "terminal.connected",
    p.TerminalConnected,
    "mt5",
    "the terminal is connected again (or for the first time)",
)
TERMINAL_DISCONNECTED = _event(
    "terminal.disconnected", p.TerminalDisconnected, "mt5", "the terminal or its trade server is away"
)
SERVICE_STATUS = _event("service.status", p.ServiceStatusChanged, "backend-api", "a service's state changed")
STRATEGY_STATUS = _event(
    "strategy.status", p.StrategyStatus, "strategy", "a strategy instance's state changed"
)
ALERT = _event("alert", p.Alert, "all", "something an operator should see; `code` says what")
ALERT_DELIVERY = _event(
    "alert.delivery",
    p.AlertDelivery,
    "backend-api",
    "an alert rule's message was sent on a channel or failed",
)

# ----- jobs: `<kind>.progress|completed|failed` for each job kind ------------------------------------------
JobPhase = Literal["progress", "completed", "failed"]
JOB_KINDS = {
    "gapfill": "data",
    "backtest": "backtesting",
    "optimization": "backtesting",
    "walk_forward": "backtesting",
    "portfolio": "backtesting",
    "model": "ai",
}
_JOB_PAYLOADS: dict[JobPhase, tuple[type[p.Payload], str]] = {
    "progress": (p.JobProgress, "{kind} job: progress"),
    "completed": (p.JobCompleted, "{kind} job: completed"),
    "failed": (p.JobFailed, "{kind} job: failed or cancelled"),
}
for _kind, _publisher in JOB_KINDS.items():
    for _phase, (_payload, _text) in _JOB_PAYLOADS.items():
        _event(f"{_kind}.{_phase}", _payload, _publisher, _text.format(kind=_kind.replace("_", "-")))
OPTIMIZATION_TRIAL = _event(
    "optimization.trial",
    p.OptimizationTrial,
    "backtesting",
    "a trial of a tpe, cmaes or nsga2 optimisation finished (params, values, best so far)",
)
MODEL_TRAINED = _event("model.trained", p.ModelTrained, "ai", "a training job registered its model")


def job_event(kind: str, phase: JobPhase) -> str:
    """The type of a job's event, e.g. `backtest.completed`."""
    return f"{kind}.{phase}"


# ----- streams ------------------------------------------------------------------------------------------
HEARTBEAT = _event("heartbeat", p.Heartbeat, "every stream", "sent when a stream is idle")
STREAM_LAGGED = _event(
    "stream.lagged", p.Lagged, "every service's stream", "a client fell behind and lost events"
)
HUB_LAGGED = _event("hub.lagged", p.Lagged, "backend-api's hub", "a hub client fell behind and lost events")
HUB_SNAPSHOT = _event(
    "hub.snapshot", p.HubSnapshot, "backend-api's hub", "every service's state, first on connect"
)


def readme_table() -> str:
    """The README's table of event types, generated from the catalog."""
    rows = ["| Type | Published by | Payload | Meaning |", "|---|---|---|---|"]
    for spec in CATALOG.values():
        fields = ", ".join(
            f"`{f.serialization_alias or name}`" for name, f in spec.payload.model_fields.items()
        )
        if spec.payload.model_config.get("extra") == "allow":
            fields = f"{fields}, …" if fields else "…"
        rows.append(f"| `{spec.name}` | {spec.publishers} | {fields or '—'} | {spec.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(readme_table())
