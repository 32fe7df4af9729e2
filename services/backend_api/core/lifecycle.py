"""The service lifecycle as data: which trigger moves a service from which state to which."""

from __future__ import annotations

from enum import StrEnum

from shared.models import ServiceState

S = ServiceState


class Trigger(StrEnum):
    START = "start"  # spawned (auto, manual, or restart after backoff)
    HEALTHY = "healthy"  # /health answered
    EXITED = "exited"  # the process ended
    HUNG = "hung"  # health failed too often in a row, or never became healthy within the grace
    FAILED = "failed"  # could not be started at all (port held by a foreign process, spawn error)
    GIVE_UP = "give_up"  # restart budget spent, or auto-restart off
    STOP = "stop"  # stopped by intent


TRANSITIONS: dict[tuple[ServiceState, Trigger], ServiceState] = {
    (S.STOPPED, Trigger.START): S.STARTING,
    (S.ERROR, Trigger.START): S.STARTING,
    (S.OFFLINE, Trigger.START): S.STARTING,
    (S.STARTING, Trigger.HEALTHY): S.ONLINE,
    (S.OFFLINE, Trigger.HEALTHY): S.ONLINE,  # external mode: the container engine restarted it
    (S.STARTING, Trigger.EXITED): S.OFFLINE,
    (S.STARTING, Trigger.HUNG): S.OFFLINE,
    (S.STARTING, Trigger.FAILED): S.ERROR,
    (S.ONLINE, Trigger.EXITED): S.OFFLINE,
    (S.ONLINE, Trigger.HUNG): S.OFFLINE,
    (S.OFFLINE, Trigger.GIVE_UP): S.ERROR,
    (S.STARTING, Trigger.STOP): S.STOPPED,
    (S.ONLINE, Trigger.STOP): S.STOPPED,
    (S.OFFLINE, Trigger.STOP): S.STOPPED,
    (S.ERROR, Trigger.STOP): S.STOPPED,
}


class InvalidTransitionError(RuntimeError):
    """A trigger that the current state does not accept (a bug in the caller, not a runtime condition)."""


def next_state(state: ServiceState, trigger: Trigger) -> ServiceState:
    """The state `trigger` leads to from `state`."""
    try:
        return TRANSITIONS[(state, trigger)]
    except KeyError:
        raise InvalidTransitionError(f"{trigger.value!r} is not allowed in state {state.value}") from None
