"""RiskManager: sizes in the symbol's volume steps within the risk budget; stops in points or ATRs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.strategy.core.config import RiskConfig, live_sizing
from services.strategy.core.ports import Quote
from services.strategy.core.risk import RiskManager, day_start
from shared.market.symbols import DEFAULT_SYMBOLS, is_multiple
from shared.trading.sizing import SizingConfig, SizingMode

EURUSD = DEFAULT_SYMBOLS[0]


def quote(bid: float = 1.10000, spread: float = 0.00012) -> Quote:
    return Quote(EURUSD, EURUSD.contract_size, bid, round(bid + spread, 5))


@settings(max_examples=300, deadline=None)
@given(
    equity=st.floats(100, 1_000_000),
    percent=st.floats(0.1, 5),
    sl_points=st.integers(20, 2_000),
    direction=st.sampled_from([1, -1]),
)
def test_risk_percent_volume_in_steps_and_within_budget(
    equity: float, percent: float, sl_points: int, direction: int
) -> None:
    manager = RiskManager(
        SizingConfig(mode=SizingMode.RISK_PERCENT, value=percent), RiskConfig(sl_points=sl_points)
    )
    q = quote()
    plan = manager.entry(direction, q, equity)
    price = q.ask if direction > 0 else q.bid
    if plan.volume == 0:
        return
    assert is_multiple(plan.volume, EURUSD.volume_step)
    assert EURUSD.volume_min <= plan.volume <= EURUSD.volume_max
    loss_at_stop = plan.volume * abs(price - plan.sl) * EURUSD.contract_size
    budget = equity * percent / 100
    assert loss_at_stop <= budget * (1 + 1e-6)
    if plan.volume < EURUSD.volume_max:  # one more step would break the budget
        bigger = float(Decimal(repr(plan.volume)) + Decimal(repr(EURUSD.volume_step)))
        assert bigger * abs(price - plan.sl) * EURUSD.contract_size > budget * (1 - 1e-6)


def test_risk_fixed_volume_rounded_down_to_step() -> None:
    manager = RiskManager(SizingConfig(mode=SizingMode.FIXED, value=0.129), RiskConfig())
    assert manager.entry(1, quote(), 10_000).volume == 0.12


def test_risk_percent_without_stop_gives_no_trade() -> None:
    manager = RiskManager(SizingConfig(mode=SizingMode.RISK_PERCENT, value=1), RiskConfig())
    assert manager.entry(1, quote(), 10_000).volume == 0.0


def test_risk_stops_in_points_rounded_to_digits() -> None:
    manager = RiskManager(
        SizingConfig(mode=SizingMode.FIXED, value=0.1), RiskConfig(sl_points=150, tp_points=300)
    )
    q = quote()
    assert manager.stops(1, q.ask, q) == (round(q.ask - 0.0015, 5), round(q.ask + 0.003, 5))
    assert manager.stops(-1, q.bid, q) == (round(q.bid + 0.0015, 5), round(q.bid - 0.003, 5))


def test_risk_stops_in_atr_multiples() -> None:
    manager = RiskManager(SizingConfig(mode=SizingMode.FIXED, value=0.1), RiskConfig(sl_atr=2, tp_atr=3))
    assert manager.stops(1, 1.1, quote(), atr=0.001) == (1.098, 1.103)


def test_risk_strategy_levels_take_precedence() -> None:
    manager = RiskManager(SizingConfig(mode=SizingMode.FIXED, value=0.1), RiskConfig(sl_points=150))
    assert manager.stops(1, 1.1, quote(), strategy_sl=1.0912345) == (1.09123, 0.0)


def test_risk_max_open_positions_refuses_entry_at_cap() -> None:
    manager = RiskManager(SizingConfig(mode=SizingMode.FIXED, value=0.1), RiskConfig(max_open_positions=2))
    assert manager.entry_refusal(1) is None
    assert manager.entry_refusal(2) == "max_open_positions"


def test_risk_daily_loss_breached_at_limit() -> None:
    manager = RiskManager(SizingConfig(mode=SizingMode.FIXED, value=0.1), RiskConfig(daily_loss_limit=100))
    assert not manager.daily_loss_breached(-99.99)
    assert manager.daily_loss_breached(-100)
    assert day_start(1_700_006_399) == 1_699_920_000


def test_risk_config_refuses_two_stop_distances() -> None:
    with pytest.raises(ValueError, match="sl_atr"):
        RiskConfig(sl_points=10, sl_atr=1)


def test_live_sizing_refuses_all_in() -> None:
    with pytest.raises(ValueError, match="all_in"):
        live_sizing(SizingConfig(mode=SizingMode.ALL_IN, value=1))
