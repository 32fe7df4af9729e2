"""The portfolio walk (services/backtesting/core/portfolio*.py): one leg is the single engine exactly; the
account is shared (margin, stop-out); profits are converted as the paper broker converts them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from services.backtesting.core import BacktestConfig, CostConfig, FillTiming, SymbolFacts, run_backtest
from services.backtesting.core.portfolio import Leg, PortfolioConfig, run_portfolio
from services.backtesting.core.portfolio_money import Currencies, Quotes, leg_money
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.trading import SizingConfig, SizingMode
from shared.trading.builtins import DonchianBreakout, SmaCrossover
from shared.trading.strategy import Strategy
from tests.backtesting.unit.scripted import Scripted, make_bars
from tests.support.bars import random_walk_bars

EURUSD = next(s for s in DEFAULT_SYMBOLS if s.name == "EURUSD")
USDJPY_CCY = Currencies(base="USD", profit="JPY", margin="USD", contract_size=100_000)
UNITS = SizingConfig(mode=SizingMode.FIXED, value=1)


def units_leg(
    bars: dict[str, np.ndarray],
    strategy: Strategy[Any],
    *,
    symbol: str = "X",
    sizing: SizingConfig = UNITS,
    facts: SymbolFacts | None = None,
) -> Leg:
    """A leg in the account currency ("units", as a single backtest without symbol facts counts)."""
    facts = facts or SymbolFacts()
    money = leg_money(None, facts, "USD", bars["time"], {}, "legs[0]")
    return Leg(f"{symbol} {strategy.name}", symbol, strategy, bars, facts, sizing, money, 3600)


def fixed(lots: float) -> SizingConfig:
    return SizingConfig(mode=SizingMode.FIXED, value=lots)


def single_config(config: PortfolioConfig, leg: Leg) -> BacktestConfig:
    return BacktestConfig(
        initial_balance=config.initial_balance,
        leverage=config.leverage,
        costs=config.costs,
        sizing=leg.sizing,
        fill=config.fill,
        finalize_trades=config.finalize_trades,
        symbol=leg.facts,
    )


EQUIVALENCE_CASES = [
    {},
    {"fill": FillTiming.THIS_CLOSE, "finalize_trades": True},
    {
        "costs": CostConfig(
            spread_points=3, commission_fraction=0.001, commission_per_lot=0.5, slippage_points=1
        )
    },
    {"sizing": SizingConfig(mode=SizingMode.EQUITY_FRACTION, value=0.5), "leverage": 2.0},
    {"sizing": SizingConfig(mode=SizingMode.ALL_IN, value=0.9), "leverage": 50.0},  # goes out of money
    {"sizing": SizingConfig(mode=SizingMode.RISK_PERCENT, value=2.0), "donchian": True, "leverage": 10.0},
]


@pytest.mark.parametrize("case", EQUIVALENCE_CASES)
def test_portfolio_of_one_leg_equals_the_single_backtest(case: dict[str, Any]) -> None:
    # Arrange: stop-out at 0 % is the engine's "out of money" rule (equity <= 0 with margin held)
    case = dict(case)
    sizing = case.pop("sizing", SizingConfig(mode=SizingMode.FIXED, value=10))
    strategy: Strategy[Any] = (
        DonchianBreakout(DonchianBreakout.Params(stop_atr=1.5))
        if case.pop("donchian", False)
        else SmaCrossover(SmaCrossover.Params(fast=10, slow=30))
    )
    config = PortfolioConfig(
        initial_balance=10_000, leverage=case.pop("leverage", 1.0), stop_out_level=0, **case
    )
    bars = random_walk_bars(3000, seed=11)
    leg = units_leg(bars, strategy, sizing=sizing)

    # Act
    single = run_backtest(bars, leg.strategy, single_config(config, leg))
    portfolio = run_portfolio([leg], config)

    # Assert: the same trades, field by field, and the same equity, bar by bar
    assert len(single.trades) >= 3
    for name in single.trades.__slots__:
        np.testing.assert_array_equal(
            getattr(portfolio.legs[0].trades, name), getattr(single.trades, name), name
        )
        np.testing.assert_array_equal(
            getattr(portfolio.combined.trades, name), getattr(single.trades, name), name
        )
    np.testing.assert_array_equal(portfolio.combined.equity, single.equity)
    np.testing.assert_array_equal(portfolio.combined.time, single.time)
    if "out_of_money" not in single.trades.exit_reason:  # the leg's own curve keeps its P&L past that
        np.testing.assert_allclose(portfolio.legs[0].equity, single.equity, rtol=1e-12, atol=1e-6)
    assert portfolio.combined.metrics.model_dump_json() == single.metrics.model_dump_json()


def test_portfolio_of_one_leg_going_out_of_money_stops_as_the_engine() -> None:
    bars = random_walk_bars(3000, seed=11)
    config = PortfolioConfig(initial_balance=1_000, leverage=100.0, stop_out_level=0)
    leg = units_leg(
        bars,
        SmaCrossover(SmaCrossover.Params(fast=5, slow=20)),
        sizing=SizingConfig(mode=SizingMode.ALL_IN, value=1),
    )
    single = run_backtest(bars, leg.strategy, single_config(config, leg))
    portfolio = run_portfolio([leg], config)
    assert single.trades.exit_reason[-1] == "out_of_money"
    np.testing.assert_array_equal(portfolio.combined.equity, single.equity)
    np.testing.assert_array_equal(portfolio.combined.trades.exit_reason, single.trades.exit_reason)


def test_portfolio_usdjpy_profit_is_divided_by_the_usdjpy_close_at_exit() -> None:
    # Arrange: buy 1 lot of USDJPY at 150.00, sold at 151.50 on a bar closing at 152.00
    bars = make_bars(
        [150.0, 150.0, 150.0, 151.0, 151.5, 151.5], close=[150.0, 150.0, 150.5, 151.0, 152.0, 151.5]
    )
    facts = SymbolFacts(point=0.001, tick_size=0.001, tick_value=1, volume_min=0.01, volume_step=0.01)
    own = {"USDJPY": Quotes(USDJPY_CCY, bars["time"], bars["close"])}
    money = leg_money(USDJPY_CCY, facts, "USD", bars["time"], own, "legs[0]")
    strategy = Scripted(6, entry_long=[1], exit_long=[3])
    leg = Leg(
        "USDJPY", "USDJPY", strategy, bars, facts, SizingConfig(mode=SizingMode.FIXED, value=1), money, 3600
    )

    # Act
    result = run_portfolio([leg], PortfolioConfig(initial_balance=10_000, leverage=100))

    # Assert: 1.5 JPY x 100,000 = 150,000 JPY, in USD at the exit bar's close (152.00)
    t = result.combined.trades
    assert (t.entry_price[0], t.exit_price[0], t.exit_bar[0]) == (150.0, 151.5, 4)
    assert t.pnl[0] == pytest.approx(150_000 / 152.0)
    # Open profit is marked at each bar's own close: 0.5 x 100,000 / 150.5 on bar 2
    assert result.combined.equity[2] == pytest.approx(10_000 + 50_000 / 150.5)
    assert result.combined.equity[-1] == pytest.approx(10_000 + 150_000 / 152.0)


def test_leg_money_margin_follows_the_paper_broker_rules() -> None:
    time = np.array([0, 3600])
    eurusd = Currencies(base="EUR", profit="USD", margin="EUR", contract_size=100_000)
    quotes = {
        "EURUSD": Quotes(eurusd, time, np.array([1.1, 1.2])),
        "USDJPY": Quotes(USDJPY_CCY, time, np.array([150.0, 160.0])),
    }
    facts = SymbolFacts()
    # EURUSD in USD: contract x the fill price (own pair); profit already in USD
    m = leg_money(eurusd, facts, "USD", time, quotes, "legs[0]")
    assert (m.margin_on_price, m.margin_per_lot.tolist(), m.to_account.tolist()) == (
        True,
        [1e5, 1e5],
        [1.0, 1.0],
    )
    # USDJPY in USD: contract USD, no conversion; profit / USDJPY
    m = leg_money(USDJPY_CCY, facts, "USD", time, quotes, "legs[0]")
    assert (m.margin_on_price, m.margin_per_lot.tolist()) == (False, [1e5, 1e5])
    np.testing.assert_allclose(m.to_account, [1 / 150.0, 1 / 160.0])
    # EURUSD in a JPY account: margin EUR -> JPY has no converter
    with pytest.raises(Exception, match="no symbol converts EUR to JPY") as info:
        leg_money(eurusd, facts, "JPY", time, quotes, "legs[1]")
    assert info.value.details["field"] == "legs[1]"  # type: ignore[attr-defined]
    # XAUUSD (CFD, margined in USD) in USD: contract x price
    xau = Currencies(base="XAU", profit="USD", margin="USD", contract_size=100)
    m = leg_money(xau, facts, "USD", time, quotes, "legs[0]")
    assert (m.margin_on_price, m.margin_per_lot.tolist()) == (True, [100.0, 100.0])


def test_portfolio_stop_out_closes_the_biggest_loser_first_and_the_account_is_shared() -> None:
    # Arrange: one account of 1,000 at leverage 10. B (leg 0) buys 40 at 100 (margin 400), A (leg 1) buys 50
    # at 100 (margin 500). A falls to 90 on bar 4 (equity 500, level 500 / 900 = 55.6 %); B's bar 5 closes
    # at 98.5 (equity 440, 48.9 %): the stop-out comes on B's bar, and closes A, the most losing position,
    # at its latest quote (bar 4's close), not the leg that ticked nor the first leg.
    n = 8
    a = make_bars(
        [100.0, 100.0, 100.0, 100.0, 95.0, 90.0, 90.0, 90.0], close=[100.0] * 3 + [95.0] + [90.0] * 4
    )
    b = make_bars([100.0] * 5 + [98.5] * 3, close=[100.0] * 5 + [98.5] * 3)
    leg_b = units_leg(b, Scripted(n, entry_long=[1], exit_long=[6]), symbol="B", sizing=fixed(40))
    leg_a = units_leg(a, Scripted(n, entry_long=[1]), symbol="A", sizing=fixed(50))
    config = PortfolioConfig(initial_balance=1_000, leverage=10, stop_out_level=50)

    # Act
    result = run_portfolio([leg_b, leg_a], config)

    # Assert
    t, leg = result.combined.trades, result.trade_legs
    assert list(t.exit_reason[leg == 1]) == ["stop_out"]
    assert (t.exit_price[leg == 1][0], t.exit_bar[leg == 1][0], t.pnl[leg == 1][0]) == (90.0, 4, -500.0)
    # B stays open after the stop-out (440 on 400 of margin is 110 %) and leaves on its own signal
    assert list(t.exit_reason[leg == 0]) == ["signal"]
    assert result.combined.equity[4] == pytest.approx(1_000 - 500)  # bar 4: A -500, B flat at 100
    assert result.combined.equity[5] == pytest.approx(1_000 - 500 - 60)


def test_portfolio_entry_refused_when_the_shared_free_margin_cannot_carry_it() -> None:
    n = 6
    a = make_bars([100.0] * n)
    b = make_bars([100.0] * n)
    leg_a = units_leg(
        a, Scripted(n, entry_long=[1]), symbol="A", sizing=SizingConfig(mode=SizingMode.FIXED, value=60)
    )
    leg_b = units_leg(
        b, Scripted(n, entry_long=[2]), symbol="B", sizing=SizingConfig(mode=SizingMode.FIXED, value=60)
    )
    config = PortfolioConfig(initial_balance=1_000, leverage=10, finalize_trades=True)

    result = run_portfolio([leg_a, leg_b], config)

    # A holds 600 of margin; B's 600 does not fit the 400 left, though alone it would
    assert result.trade_legs.tolist() == [0]
    assert result.legs[1].warnings[0].code == "insufficient_margin"


def test_portfolio_correlation_of_identical_and_mirrored_legs() -> None:
    bars = random_walk_bars(24 * 60, seed=5)
    params = SmaCrossover.Params(fast=5, slow=20)
    long_only = SmaCrossover(params)
    legs = [units_leg(bars, long_only, symbol="A"), units_leg(bars, long_only, symbol="B")]
    mirrored = {
        **bars,
        "open": 200 - bars["open"],
        "close": 200 - bars["close"],
        "high": 200 - bars["low"],
        "low": 200 - bars["high"],
    }
    legs.append(units_leg(mirrored, SmaCrossover(params), symbol="C"))
    result = run_portfolio(legs, PortfolioConfig(initial_balance=10_000))
    corr = result.correlation
    assert corr.shape == (3, 3)
    assert corr[0, 1] == pytest.approx(1.0)
    assert corr[0, 0] == pytest.approx(1.0)
    assert -1.0 <= corr[0, 2] <= 1.0
    assert set(result.symbols) == {"A", "B", "C"}
    assert set(result.strategies) == {"sma_crossover"}
    # per strategy: all three legs' P&L on one initial balance
    np.testing.assert_allclose(
        result.strategies["sma_crossover"].equity[-1] - 10_000,
        sum(leg.equity[-1] - 10_000 for leg in result.legs),
    )


def test_leg_money_converts_through_another_symbol_aligned_to_its_latest_bar() -> None:
    # XAUUSD in a JPY account: USD profit and margin x the close of the latest USDJPY bar opened by then
    xau = Currencies(base="XAU", profit="USD", margin="USD", contract_size=100)
    usdjpy = Quotes(USDJPY_CCY, np.array([0, 7200]), np.array([150.0, 152.0]))
    time = np.array([0, 3600, 7200, 10_800])

    m = leg_money(xau, SymbolFacts(), "JPY", time, {"USDJPY": usdjpy}, "legs.0")

    np.testing.assert_array_equal(m.to_account, [150.0, 150.0, 152.0, 152.0])
    np.testing.assert_array_equal(m.margin_per_lot, [15_000.0, 15_000.0, 15_200.0, 15_200.0])
    assert m.margin_on_price  # CFD mode: contract x price, converted
    # EURUSD's margin is in EUR, which no USDJPY converts to JPY (the broker does not chain conversions)
    eurusd = Currencies(base="EUR", profit="USD", margin="EUR", contract_size=100_000)
    with pytest.raises(Exception, match="no symbol converts EUR to JPY"):
        leg_money(eurusd, SymbolFacts(), "JPY", time, {"USDJPY": usdjpy}, "legs.0")
