"""OrderPlanner, pure: bars, positions, quote/equity and the instance's config in; orders and reasons out."""

from __future__ import annotations

from typing import Any

import numpy as np

from services.strategy.core.config import RiskConfig
from services.strategy.core.decisions import BarSignal, Reason
from services.strategy.core.planning import OrderPlanner, client_id
from services.strategy.core.ports import Position, Quote
from services.strategy.core.store import InstanceRecord, InstanceState
from shared.market import mt5_constants as mt5
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.trading.registry import build_strategy
from shared.trading.sizing import SizingConfig, SizingMode
from tests.strategy.fakes import make_bars
from tests.strategy.unit.conftest import CLOSES
from tests.strategy.unit.test_runner import ENTRY_LONG

EURUSD = DEFAULT_SYMBOLS[0]
MAGIC = 20_240_007
BAR_TIME = 1_700_006_400
LONG = BarSignal(entry_long=True, exit_long=False, entry_short=False, exit_short=False)
SHORT = BarSignal(entry_long=False, exit_long=False, entry_short=True, exit_short=False)
NONE = BarSignal(entry_long=False, exit_long=False, entry_short=False, exit_short=False)
QUOTE = Quote(EURUSD, EURUSD.contract_size, 1.10000, 1.10012)


def planner(
    *, risk: RiskConfig | None = None, sizing: SizingConfig | None = None, **kwargs: Any
) -> OrderPlanner:
    instance = InstanceRecord(
        id="i1",
        strategy="sma_crossover",
        params={"fast": 2, "slow": 3},
        symbol="EURUSD",
        timeframe="M15",
        sizing=sizing or SizingConfig(mode=SizingMode.FIXED, value=0.1),
        risk=risk or RiskConfig(),
        magic=MAGIC,
        state=InstanceState.RUNNING,
        reason="",
        created_ms=0,
        updated_ms=0,
    )
    strategy = build_strategy("sma_crossover", {"fast": 2, "slow": 3})
    return OrderPlanner(instance, strategy, history_bars=20, warmup_factor=2, **kwargs)


def position(ticket: int, direction: int, profit: float = 0.0) -> Position:
    kind = mt5.POSITION_TYPE_BUY if direction > 0 else mt5.POSITION_TYPE_SELL
    return Position(ticket, "EURUSD", kind, MAGIC, 0.1, 1.1, 0.0, 0.0, profit, BAR_TIME - 900)


def test_planning_signal_reads_the_last_bar_with_only_the_bars_before_it() -> None:
    # Arrange
    bars = make_bars(CLOSES)
    # Act
    signal = planner().signal(bars[: ENTRY_LONG + 1])
    before = planner().signal(bars[:ENTRY_LONG])
    # Assert
    assert signal.entry_long and not signal.entry_short
    assert not before.any


def test_planning_window_shorter_than_the_warmup_is_warming_up() -> None:
    # Arrange: the first bar whose signal counts is bar `warmup`, as in the backtest
    orders = planner()
    warmup = orders.strategy.warmup
    bars = make_bars(CLOSES[: warmup + 1])
    # Act
    warming = orders.warming_up(bars[:warmup])
    ready = orders.warming_up(bars)
    # Assert
    assert warming == {"bar_time": int(bars["time"][warmup - 1]), "warming_up": True, "bars": warmup}
    assert ready is None


def test_planning_flat_entry_is_pending_until_sized_then_a_buy_under_the_bar_client_id() -> None:
    # Arrange
    orders = planner(deviation_points=7)
    # Act
    plan = orders.plan(BAR_TIME, LONG, [])
    sized = orders.enter(plan, make_bars(CLOSES), QUOTE, 0.0)
    # Assert
    assert plan.entry_pending and plan.orders == []
    assert not sized.entry_pending and sized.refusal is None
    (entry,) = sized.orders
    assert entry.client_id == client_id("i1", BAR_TIME, "buy") == f"i1:{BAR_TIME}:buy"
    assert entry.request == {
        "action": "DEAL",
        "symbol": "EURUSD",
        "type": "BUY",
        "volume": 0.1,
        "sl": 0.0,
        "tp": 0.0,
        "deviation": 7,
        "magic": MAGIC,
        "comment": f"{BAR_TIME}:buy",
    }
    assert sized.summary == {"bar_time": BAR_TIME, "signals": LONG.to_dict(), "held": 0}


def test_planning_reverse_closes_every_position_first_then_enters() -> None:
    # Arrange
    held = [position(11, 1), position(12, 1)]
    # Act
    plan = planner(risk=RiskConfig(max_open_positions=2)).plan(BAR_TIME, SHORT, held)
    # Assert
    assert plan.decision.close == Reason.REVERSE
    assert [o.action for o in plan.closes] == ["close-11", "close-12"]
    assert plan.closes[0].request == {
        "ticket": 11,
        "deviation": 20,
        "magic": MAGIC,
        "comment": f"{BAR_TIME}:close-11",
    }
    assert plan.entry_pending and plan.decision.open == -1


def test_planning_entry_in_the_held_direction_is_ignored_without_orders() -> None:
    # Arrange
    held = [position(11, 1)]
    # Act
    plan = planner().plan(BAR_TIME, LONG, held)
    # Assert
    assert plan.orders == [] and plan.refusal is None and not plan.entry_pending
    assert plan.decision.ignored == Reason.ALREADY_LONG
    assert plan.summary["held"] == 1


def test_planning_entry_too_small_to_trade_is_refused() -> None:
    # Arrange: 0.01 % of 100 money with a 10-point stop is far below EURUSD's minimum lot
    orders = planner(
        sizing=SizingConfig(mode=SizingMode.RISK_PERCENT, value=0.01), risk=RiskConfig(sl_points=10)
    )
    plan = orders.plan(BAR_TIME, LONG, [])
    # Act
    sized = orders.enter(plan, make_bars(CLOSES), QUOTE, 100.0)
    # Assert
    assert sized.refusal == "volume_below_minimum"
    assert sized.orders == [] and not sized.entry_pending


def test_planning_atr_stops_come_from_the_window() -> None:
    # Arrange
    orders = planner(risk=RiskConfig(sl_atr=2.0, atr_period=3))
    window = make_bars(np.full(10, 1.1))  # every bar 0.0004 high to low: ATR 0.0004
    plan = orders.plan(BAR_TIME, SHORT, [])
    # Act
    sized = orders.enter(plan, window, QUOTE, 0.0)
    # Assert
    assert sized.entry is not None
    assert sized.entry.request["sl"] == round(QUOTE.bid + 2 * 0.0004, EURUSD.digits)


def test_planning_daily_loss_at_the_limit_stops_and_closes_when_configured() -> None:
    # Arrange
    held = [position(11, 1, profit=-40.0)]
    closing = planner(risk=RiskConfig(daily_loss_limit=50))
    keeping = planner(risk=RiskConfig(daily_loss_limit=50, close_on_daily_loss=False))
    # Act
    within = closing.daily_loss_stop(BAR_TIME, -49.99, held)
    stop = closing.daily_loss_stop(BAR_TIME, -50.0, held)
    kept = keeping.daily_loss_stop(BAR_TIME, -60.0, held)
    # Assert
    assert within is None
    assert stop is not None and [o.action for o in stop.closes] == ["close-11"]
    assert stop.reason == "daily_loss_limit: today's P&L -50.00 reached the limit of -50.00"
    assert stop.summary == {"bar_time": BAR_TIME, "daily_loss": -50.0}
    assert kept is not None and kept.closes == ()


def test_planning_without_a_loss_limit_never_stops() -> None:
    # Act
    stop = planner().daily_loss_stop(BAR_TIME, -1e9, [position(11, 1)])
    # Assert
    assert stop is None


def test_planning_trading_day_is_the_day_of_the_next_bars_open() -> None:
    # Arrange: the last M15 bar of a UTC day closes, and its orders are placed, at 00:00 of the next
    midnight = 19_675 * 86_400
    # Act
    last_of_day = planner().trading_day(midnight - 900)
    one_before = planner().trading_day(midnight - 1800)
    # Assert
    assert last_of_day == midnight
    assert one_before == midnight - 86_400
