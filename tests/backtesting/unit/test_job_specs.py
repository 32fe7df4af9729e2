"""The run kinds' job specs: frozen, whole after pickling (jobs run in a process pool), and stored as the
params the API has always answered, without the worker's bars file."""

from __future__ import annotations

import pickle

import pytest
from pydantic import ValidationError

from services.backtesting.core import BacktestConfig, ParamRange
from services.backtesting.core.optimize import Objective
from services.backtesting.core.specs import BacktestJobSpec, DataSource, OptimizeJobSpec

DATA = DataSource(symbol="EURUSD", timeframe="H1", from_s=1_700_000_000, to_s=1_700_360_000, bars=101)


def _optimization() -> OptimizeJobSpec:
    return OptimizeJobSpec(
        strategy="sma_crossover",
        params={"fast": 5},
        source=DATA,
        config=BacktestConfig(initial_balance=50_000),
        bars_file="/spool/abc.npz",
        space={"slow": ParamRange(start=10, stop=30, step=10)},
        metric="Return [%]",
        maximize=True,
        sampler="grid",
        objectives=(Objective(metric="Return [%]"),),
        constraints=(),
        n_trials=100,
        samples=100,
        seed=0,
        top_n=5,
        heatmap=None,
        combinations=3,
    )


def test_job_spec_survives_pickling_whole_including_its_bars_file() -> None:
    spec = _optimization()

    copy = pickle.loads(pickle.dumps(spec))

    assert copy == spec and copy.bars_file == "/spool/abc.npz"
    assert copy.space["slow"] == ParamRange(start=10, stop=30, step=10)


def test_job_spec_is_frozen() -> None:
    with pytest.raises(ValidationError):
        _optimization().metric = "Sharpe Ratio"  # type: ignore[misc]


def test_job_spec_stored_params_flatten_the_data_source_and_leave_out_the_bars_file() -> None:
    spec = BacktestJobSpec(
        strategy="sma_crossover", params={}, source=DATA, config=BacktestConfig(), bars_file="/spool/x.npz"
    )

    stored = spec.stored_params()

    assert stored == {
        "strategy": "sma_crossover",
        "params": {},
        "source": "data",
        "symbol": "EURUSD",
        "timeframe": "H1",
        "from": 1_700_000_000,
        "to": 1_700_360_000,
        "bars": 101,
        "config": BacktestConfig().model_dump(mode="json"),
    }
    assert _optimization().stored_params()["space"] == {"slow": {"start": 10.0, "stop": 30.0, "step": 10.0}}
