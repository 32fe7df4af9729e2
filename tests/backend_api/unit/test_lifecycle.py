"""The lifecycle table and the restart policy, with an injected clock."""

from __future__ import annotations

import random

import pytest

from services.backend_api.core.backoff import RestartPolicy, compute_backoff
from services.backend_api.core.lifecycle import TRANSITIONS, InvalidTransitionError, Trigger, next_state
from shared.models import ServiceState as S


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lifecycle_normal_run_goes_stopped_starting_online_offline_starting() -> None:
    state = S.STOPPED
    for trigger, expected in [
        (Trigger.START, S.STARTING),
        (Trigger.HEALTHY, S.ONLINE),
        (Trigger.EXITED, S.OFFLINE),
        (Trigger.START, S.STARTING),
        (Trigger.HUNG, S.OFFLINE),
        (Trigger.GIVE_UP, S.ERROR),
        (Trigger.START, S.STARTING),
        (Trigger.FAILED, S.ERROR),
        (Trigger.STOP, S.STOPPED),
    ]:
        state = next_state(state, trigger)
        assert state == expected


@pytest.mark.parametrize(
    "state,trigger", [(S.STOPPED, Trigger.HEALTHY), (S.ONLINE, Trigger.START), (S.STOPPED, Trigger.STOP)]
)
def test_lifecycle_trigger_not_in_table_is_refused(state: S, trigger: Trigger) -> None:
    with pytest.raises(InvalidTransitionError):
        next_state(state, trigger)


def test_lifecycle_every_state_can_be_stopped_except_stopped() -> None:
    assert {s for (s, t) in TRANSITIONS if t == Trigger.STOP} == set(S) - {S.STOPPED}


def test_backoff_doubles_and_is_capped() -> None:
    delays = [compute_backoff(n, initial_s=1, max_s=60) for n in range(1, 10)]
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_backoff_jitter_stays_within_fraction_and_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        base = compute_backoff(attempt, initial_s=1, max_s=60)
        jittered = compute_backoff(attempt, initial_s=1, max_s=60, jitter=0.2, rng=rng)
        assert base * 0.8 <= jittered <= min(60, base * 1.2)


def test_restart_policy_gives_up_after_budget_within_window() -> None:
    clock = FakeClock()
    policy = RestartPolicy(initial_s=1, max_s=60, reset_after_s=60, budget=5, window_s=300, clock=clock)
    delays = []
    for _ in range(5):
        delays.append(policy.record_failure())
        clock.now += 10
    assert delays == [1, 2, 4, 8, 16]
    assert policy.record_failure() is None


def test_restart_policy_forgets_failures_outside_window_and_resets_after_stable_run() -> None:
    clock = FakeClock()
    policy = RestartPolicy(initial_s=1, max_s=60, reset_after_s=60, budget=2, window_s=100, clock=clock)
    assert policy.record_failure() == 1
    assert policy.record_failure() == 2
    clock.now += 101  # both failures leave the window
    policy.record_online()
    clock.now += 61  # and the service ran long enough to reset the backoff
    assert policy.record_failure() == 1
    policy.reset()
    assert policy.record_failure() == 1
