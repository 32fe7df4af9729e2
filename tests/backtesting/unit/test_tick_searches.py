"""Searches in the tick models, in process: a trial fills on the ticks of its search's bars only, and scores
what a single tick-model backtest of its parameters scores."""

from __future__ import annotations

import numpy as np

from services.backtesting.core import ParamRange, run_optimization
from services.backtesting.core.config import Model
from services.backtesting.core.optimize import Objective
from services.backtesting.core.search import run_search
from services.backtesting.core.studies import SearchPlan
from services.backtesting.core.tick_engine import BarTicks, TickColumns, m1_ticks, run_tick_backtest
from services.backtesting.core.trials import search_columns
from shared.trading import StrategyRegistry, build_strategy
from tests.backtesting.tick_market import BAR_NAMES, EURUSD, H1, M1, TICKS, config

REGISTRY = StrategyRegistry.with_builtins()
SPACE = {"fast": ParamRange(values=[5, 8]), "slow": ParamRange(values=[12, 20])}
BARS = {name: np.asarray(H1[name]) for name in BAR_NAMES}


def test_search_columns_hold_the_ticks_of_the_bars_span_beside_the_bars() -> None:
    bars = {name: values[100:150] for name, values in BARS.items()}

    cols = search_columns(bars, BarTicks(TickColumns.of(TICKS), 3600))

    times = cols["tick:time_msc"]
    assert times[0] == bars["time"][0] * 1000 and times[-1] < (bars["time"][-1] + 3600) * 1000
    assert len(times) == 50 * 1440  # every tick of the 50 hours, none of the hours around them
    assert cols["tick:fill"].tolist() == [1440 * (k + 1) for k in range(49)] + [len(times)]
    assert all(cols[name] is bars[name] for name in bars)


def test_optimize_on_ticks_in_process_scores_each_combination_as_its_tick_backtest() -> None:
    ticks = TickColumns.of(TICKS)

    result = run_optimization(
        BARS,
        "sma_crossover",
        SPACE,
        config(Model.TICKS),
        registry=REGISTRY,
        metric="Return [%]",
        ticks=BarTicks(ticks, 3600),
    )

    assert result.evaluated == 4
    for ranked in result.top:
        single = run_tick_backtest(
            BARS, ticks, 3600, build_strategy("sma_crossover", ranked.params), config(Model.TICKS)
        )
        assert ranked.metrics == single.metrics.model_dump(), ranked.params


def test_tpe_search_on_m1_ticks_scores_each_trial_as_its_tick_backtest() -> None:
    minutes = {name: np.asarray(M1[name]) for name in ("time", "open", "high", "low", "close", "spread")}
    ticks = m1_ticks(minutes, EURUSD.point)
    plan = SearchPlan(sampler="tpe", objectives=(Objective(metric="return_pct"),), n_trials=4, seed=1)

    result = run_search(
        BARS,
        "sma_crossover",
        SPACE,
        config(Model.M1_OHLC),
        registry=REGISTRY,
        plan=plan,
        ticks=BarTicks(ticks, 3600),
    )

    assert result.top
    for ranked in result.top:
        single = run_tick_backtest(
            BARS, ticks, 3600, build_strategy("sma_crossover", ranked.params), config(Model.M1_OHLC)
        )
        assert ranked.metrics == single.metrics.model_dump(), ranked.params
