"""Property: any parameters a built-in strategy's schema accepts run on 1,000 bars without error (issue 16:
`donchian_breakout` accepted `exit_period: 1`, and the job then died in TA-Lib with TA_BAD_PARAM)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from services.backtesting.core import BacktestConfig, run_backtest
from shared.errors import InvalidInputError
from shared.trading import BUILTIN_STRATEGIES, build_strategy
from shared.trading.strategy import Strategy
from tests.support.bars import random_walk_bars

N = 1000


BARS = random_walk_bars(N, seed=11)


def _values(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Every value the JSON Schema of one parameter admits (integers, numbers, booleans)."""
    kind = prop.get("type")
    if kind == "boolean":
        return st.booleans()
    low = prop.get("minimum", prop.get("exclusiveMinimum"))
    high = prop.get("maximum", prop.get("exclusiveMaximum"))
    if kind == "integer":
        low = None if low is None else int(low) + ("exclusiveMinimum" in prop)
        high = None if high is None else int(high) - ("exclusiveMaximum" in prop)
        return st.integers(low, high)
    assert kind == "number", prop
    return st.floats(
        low,
        high,
        exclude_min="exclusiveMinimum" in prop,
        exclude_max="exclusiveMaximum" in prop,
        allow_nan=False,
        allow_infinity=False,
    )


def _params(cls: type[Strategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    props = cls.params_schema()["properties"]
    return st.fixed_dictionaries({}, optional={name: _values(prop) for name, prop in props.items()})


@pytest.mark.parametrize("cls", BUILTIN_STRATEGIES, ids=lambda cls: cls.name)
def test_builtin_strategy_any_params_its_schema_accepts_run_on_1000_bars(cls: type[Strategy[Any]]) -> None:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
    @given(params=_params(cls))
    def check(params: dict[str, Any]) -> None:
        try:
            strategy = build_strategy(cls.name, params)
        except InvalidInputError:
            assume(False)  # a cross-field rule (fast < slow ...) refused it: the schema alone does not say
            return
        signals = strategy.signals(BARS)  # must compute whatever the warm-up
        assert len(signals) == N
        if max(strategy.warmup, 1) + 2 <= N:  # the engine's rule: warm-up bars plus two to trade
            result = run_backtest(BARS, strategy, BacktestConfig())
            assert np.isfinite(result.equity).all()
        else:
            with pytest.raises(InvalidInputError) as exc:
                run_backtest(BARS, strategy, BacktestConfig())
            assert exc.value.code == "insufficient_data"

    check()
