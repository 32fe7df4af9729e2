"""Parameter search and walk-forward analysis."""

from __future__ import annotations

import numpy as np
import pytest

from services.backtesting.core import (
    BacktestCancelled,
    BacktestConfig,
    ParamRange,
    run_backtest,
    run_optimization,
    run_walk_forward,
)
from services.backtesting.core.executors import ExecutorConfig, open_executor
from services.backtesting.core.walk_forward import window_bounds
from shared.errors import InvalidInputError
from shared.trading import StrategyRegistry
from tests.support.bars import random_walk_bars

REGISTRY = StrategyRegistry.with_builtins()
CONFIG = BacktestConfig(initial_balance=100_000)
SPACE = {"fast": ParamRange(start=5, stop=25, step=5), "slow": ParamRange(values=[10, 20, 40])}


def test_optimize_grid_skips_invalid_combos_and_ranks_by_metric() -> None:
    result = run_optimization(
        random_walk_bars(3000),
        "sma_crossover",
        SPACE,
        CONFIG,
        registry=REGISTRY,
        metric="Return [%]",
        top_n=3,
        heatmap=("fast", "slow"),
    )
    assert (result.evaluated, result.invalid) == (9, 6)  # fast >= slow refused
    scores = [t.score for t in result.top]
    assert scores == sorted(scores, reverse=True)
    best = result.top[0]
    direct = run_backtest(random_walk_bars(3000), REGISTRY.build("sma_crossover", best.params), CONFIG)
    assert direct.metrics.return_pct == pytest.approx(best.score)
    cell = run_backtest(
        random_walk_bars(3000), REGISTRY.build("sma_crossover", {"fast": 5, "slow": 20}), CONFIG
    )
    assert result.heatmap["values"][0][1] == pytest.approx(cell.metrics.return_pct)  # fast=5, slow=20
    assert result.heatmap["values"][4][0] is None  # fast=25, slow=10 is refused


def test_optimize_process_pool_gives_the_serial_ranking() -> None:
    serial = run_optimization(
        random_walk_bars(3000), "sma_crossover", SPACE, CONFIG, registry=REGISTRY, top_n=5
    )
    with open_executor(ExecutorConfig(workers=2), REGISTRY) as executor:
        parallel = run_optimization(
            random_walk_bars(3000),
            "sma_crossover",
            SPACE,
            CONFIG,
            registry=REGISTRY,
            top_n=5,
            executor=executor,
        )
    assert parallel == serial  # every field, ties ranked alike whatever order batches finished in


def test_optimize_random_search_samples_the_asked_count() -> None:
    result = run_optimization(
        random_walk_bars(3000),
        "sma_crossover",
        SPACE,
        CONFIG,
        registry=REGISTRY,
        method="random",
        samples=4,
        seed=1,
    )
    assert result.evaluated + result.invalid == 4


def test_optimize_cancel_flag_stops_the_search() -> None:
    with pytest.raises(BacktestCancelled):
        run_optimization(
            random_walk_bars(3000), "sma_crossover", SPACE, CONFIG, registry=REGISTRY, cancel=lambda: True
        )


def test_optimize_empty_range_refused() -> None:
    with pytest.raises(InvalidInputError) as exc:
        run_optimization(
            random_walk_bars(3000),
            "sma_crossover",
            {"fast": ParamRange(values=[])},
            CONFIG,
            registry=REGISTRY,
        )
    assert exc.value.code == "empty_range"


def test_window_bounds_rolling_and_anchored() -> None:
    assert window_bounds(10, 4, 3, anchored=False) == [((0, 4), (4, 7)), ((3, 7), (7, 10))]
    assert window_bounds(10, 4, 3, anchored=True) == [((0, 4), (4, 7)), ((0, 7), (7, 10))]


def test_walk_forward_stitches_oos_equity_continuously() -> None:
    bars = random_walk_bars(3000)
    result = run_walk_forward(
        bars,
        "sma_crossover",
        SPACE,
        CONFIG,
        registry=REGISTRY,
        in_sample_bars=1000,
        out_of_sample_bars=500,
        metric="Return [%]",
    )
    assert [w.out_of_sample for w in result.windows] == [
        (1000, 1500),
        (1500, 2000),
        (2000, 2500),
        (2500, 3000),
    ]
    equity = result.stitched.equity
    assert len(equity) == 2000 and equity[0] == pytest.approx(100_000, rel=0.05)
    # Each window's return compounds into the stitched one.
    growth = np.prod([1 + w.out_of_sample_metrics.return_pct / 100 for w in result.windows])
    assert result.stitched.equity[-1] == pytest.approx(100_000 * growth, rel=1e-9)
    assert np.all((result.stitched.trades.entry_bar >= 0) & (result.stitched.trades.exit_bar < 2000))
