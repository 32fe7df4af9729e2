"""Risk guard rules, the kill switch and the live-trading gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.mt5.core.risk_guard import (
    LIVE_CONFIRM_ENV,
    LIVE_CONFIRM_VALUE,
    LiveTradingGate,
    RiskGuard,
    RiskLimits,
    RiskRuleViolation,
)
from services.mt5.core.simulated.broker import PaperBroker
from shared.errors import ForbiddenError
from shared.market import mt5_constants as mt5
from tests.mt5.unit.broker_support import Market, make_broker, market_order, pending_order

BUY, SELL = mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_SELL


@pytest.fixture
def broker(tmp_path: Path) -> PaperBroker:
    return make_broker(tmp_path / "paper.db", Market())


def _check(guard: RiskGuard, broker: PaperBroker, request: dict) -> None:
    guard.check(request, positions=broker.positions_get(), orders=broker.orders_get())


def _refused_rule(guard: RiskGuard, broker: PaperBroker, request: dict) -> RiskRuleViolation:
    with pytest.raises(RiskRuleViolation) as refused:
        _check(guard, broker, request)
    assert refused.value.status_code == 403
    return refused.value


def test_symbol_not_allowed_refused(broker: PaperBroker) -> None:
    guard = RiskGuard(RiskLimits(allowed_symbols=frozenset({"EURUSD"})))

    _check(guard, broker, market_order("EURUSD", BUY, 1.0))
    error = _refused_rule(guard, broker, market_order("XAUUSD", BUY, 0.1))

    assert (error.code, error.details["rule"], error.details["limit"]) == (
        "risk_rule_violated",
        "allowed_symbols",
        ["EURUSD"],
    )


def test_volume_above_max_per_order_refused(broker: PaperBroker) -> None:
    guard = RiskGuard(RiskLimits(max_volume_per_order=1.0))

    _check(guard, broker, market_order("EURUSD", BUY, 1.0))
    error = _refused_rule(guard, broker, pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 1.01, 1.09))

    assert error.details == {"rule": "max_volume_per_order", "limit": 1.0, "value": 1.01}


def test_open_positions_limit_counts_pending_orders(broker: PaperBroker) -> None:
    guard = RiskGuard(RiskLimits(max_open_positions=2))
    broker.order_send(market_order("EURUSD", BUY, 0.1))
    broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.09))

    error = _refused_rule(guard, broker, market_order("GBPUSD", SELL, 0.1))

    assert (error.details["rule"], error.details["limit"]) == ("max_open_positions", 2)


def test_exposure_per_symbol_is_per_direction(broker: PaperBroker) -> None:
    guard = RiskGuard(RiskLimits(max_exposure_per_symbol=0.5))
    broker.order_send(market_order("EURUSD", BUY, 0.3))
    broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.09))

    _check(guard, broker, market_order("EURUSD", BUY, 0.1))  # 0.3 + 0.1 + 0.1 = 0.5: at the limit
    _check(guard, broker, market_order("EURUSD", SELL, 0.5))  # the other direction counts on its own
    error = _refused_rule(guard, broker, market_order("EURUSD", BUY, 0.11))

    assert (error.details["rule"], error.details["value"]) == ("max_exposure_per_symbol", 0.51)


def test_closing_and_deleting_pass_every_rule(broker: PaperBroker) -> None:
    opened = broker.order_send(market_order("EURUSD", BUY, 0.3))
    placed = broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.09))
    guard = RiskGuard(
        RiskLimits(allowed_symbols=frozenset(), max_volume_per_order=0.01, max_open_positions=0)
    )
    guard.halt("drawdown")

    _check(guard, broker, market_order("EURUSD", SELL, 0.3, position=opened.order))
    _check(guard, broker, {"action": mt5.TRADE_ACTION_REMOVE, "order": placed.order})
    _check(guard, broker, {"action": mt5.TRADE_ACTION_SLTP, "position": opened.order, "sl": 1.09})


def test_kill_switch_refuses_opening_until_resumed(broker: PaperBroker) -> None:
    guard = RiskGuard(RiskLimits())
    placed = broker.order_send(pending_order("EURUSD", mt5.ORDER_TYPE_BUY_LIMIT, 0.1, 1.09))

    guard.halt("manual")
    for request in (
        market_order("EURUSD", BUY, 0.01),
        pending_order("EURUSD", mt5.ORDER_TYPE_SELL_STOP, 0.01, 1.09),
        {"action": mt5.TRADE_ACTION_MODIFY, "order": placed.order, "price": 1.095},
    ):
        error = _refused_rule(guard, broker, request)
        assert (error.code, error.details) == ("trading_halted", {"rule": "kill_switch", "reason": "manual"})
    guard.resume()

    _check(guard, broker, market_order("EURUSD", BUY, 0.01))
    assert not guard.halted


@pytest.mark.parametrize(
    ("mode", "confirmation", "allowed"),
    [
        ("live", LIVE_CONFIRM_VALUE, True),
        ("live", None, False),
        ("live", "yes", False),
        ("paper", LIVE_CONFIRM_VALUE, False),
    ],
)
def test_live_gate_needs_live_mode_and_confirmation(
    mode: str, confirmation: str | None, allowed: bool
) -> None:
    gate = LiveTradingGate.from_environ(mode, {LIVE_CONFIRM_ENV: confirmation} if confirmation else {})

    gate.check(real_terminal=False)  # the paper broker is always allowed
    if allowed:
        gate.check(real_terminal=True)
    else:
        with pytest.raises(ForbiddenError) as refused:
            gate.check(real_terminal=True)
        assert refused.value.code == "live_trading_disabled"
        assert (LIVE_CONFIRM_ENV if mode == "live" else "trading.mode") in refused.value.message
    assert gate.live_allowed is allowed
