"""The search executors' local side: bars shared once per search, indicators computed once per worker."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

from services.backtesting.core import BacktestConfig, ParamRange, run_optimization
from services.backtesting.core.executors import ExecutorConfig, open_executor
from services.backtesting.core.executors.local import _Worker, share_bars
from services.backtesting.core.optimize import plan_combinations
from services.backtesting.core.overfitting_report import period_marks
from services.backtesting.core.trials import evaluate_chunk
from shared.trading import StrategyRegistry
from shared.trading.indicator_cache import IndicatorCache, cached_indicator, indicator_cache
from tests.support.bars import random_walk_bars

REGISTRY = StrategyRegistry.with_builtins()
CONFIG = BacktestConfig(initial_balance=100_000)
SPACE = {"fast": ParamRange(values=[5, 10, 15]), "slow": ParamRange(values=[20, 30, 40])}


def test_optimize_grid_computes_each_moving_average_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import talib

    periods: list[int] = []
    real_sma = talib.SMA

    def counting_sma(close: np.ndarray, timeperiod: int) -> Any:
        periods.append(timeperiod)
        return real_sma(close, timeperiod=timeperiod)

    monkeypatch.setattr(talib, "SMA", counting_sma)

    result = run_optimization(random_walk_bars(3000), "sma_crossover", SPACE, CONFIG, registry=REGISTRY)

    assert result.evaluated == 9
    assert sorted(periods) == [5, 10, 15, 20, 30, 40]  # not 18: 3 fast and 3 slow averages, once each


def test_optimize_grid_with_cache_equals_one_backtest_per_combination() -> None:
    bars = random_walk_bars(3000)
    combos = plan_combinations(SPACE)

    marks = period_marks(bars["time"], 2_000)
    keep = [True] * len(combos)

    cached = evaluate_chunk(
        bars, "sma_crossover", combos, CONFIG, REGISTRY, marks, keep, IndicatorCache(2**30)
    )
    uncached = [
        evaluate_chunk(bars, "sma_crossover", [params], CONFIG, REGISTRY, marks, [True])[0]
        for params in combos
    ]

    assert [outcome[0] for outcome in cached if outcome] == [outcome[0] for outcome in uncached if outcome]
    assert [o[2].moments for o in cached if o] == [o[2].moments for o in uncached if o]


def test_indicator_cache_evicts_least_recent_beyond_its_budget_and_shares_read_only() -> None:
    source = np.arange(100, dtype=np.float64)
    cache = IndicatorCache(max_bytes=2 * source.nbytes)

    with indicator_cache(cache):
        first = cached_indicator(("x", 1), source, lambda: source * 1)
        cached_indicator(("x", 2), source, lambda: source * 2)
        again = cached_indicator(("x", 1), source, lambda: source * 1)
        cached_indicator(("x", 3), source, lambda: source * 3)  # evicts ("x", 2), the least recent
        cached_indicator(("x", 2), source, lambda: source * 2)
    outside = cached_indicator(("x", 1), source, lambda: source * 1)

    assert again is first
    assert cache.computed == 4
    assert not first.flags.writeable
    assert outside is not first  # no cache outside a search


def test_shared_bars_handle_carries_no_bars_and_maps_the_same_columns() -> None:
    bars = random_walk_bars(1_000_000)
    block, handle = share_bars(bars)
    worker = _Worker(folder=None, cache=IndicatorCache(0))
    try:
        mapped = worker.columns(handle)

        assert len(pickle.dumps(handle)) < 1000  # what a batch carries, instead of ~40 MB of columns
        assert mapped.keys() == bars.keys()
        for name, values in bars.items():
            np.testing.assert_array_equal(mapped[name], values)
            assert mapped[name].dtype == values.dtype
    finally:
        worker.release()
        block.close()
        block.unlink()


def test_local_executor_walk_forward_equals_in_process() -> None:
    from services.backtesting.core import run_walk_forward

    bars = random_walk_bars(3000)
    kwargs: dict[str, Any] = {"registry": REGISTRY, "in_sample_bars": 1000, "out_of_sample_bars": 500}
    serial = run_walk_forward(bars, "sma_crossover", SPACE, CONFIG, **kwargs)
    with open_executor(ExecutorConfig(workers=2), REGISTRY) as executor:
        pooled = run_walk_forward(bars, "sma_crossover", SPACE, CONFIG, executor=executor, **kwargs)

    assert pooled.to_dict() == serial.to_dict()


def test_settings_executor_ray_without_ray_installed_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util

    from pydantic import ValidationError

    from services.backtesting.settings import BacktestingSection

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real_find_spec(name, *a)
    )

    with pytest.raises(ValidationError, match=r"executor ray needs Ray: pip install"):
        BacktestingSection(executor="ray")
    assert BacktestingSection().executor == "local"  # the default needs nothing extra
