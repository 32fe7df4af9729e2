"""The README's user-strategy example works as printed: it loads from a folder, its parameters validate, its
signals never look ahead, and the backtest engine trades it with its stops."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from services.backtesting.core.config import BacktestConfig, SymbolFacts
from services.backtesting.core.engine import run_backtest
from shared.config import PROJECT_ROOT
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.trading.registry import StrategyRegistry, load_strategy_folder
from shared.trading.sizing import SizingConfig, SizingMode

MARKER = "<!-- example: user strategy"


def readme_example() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    after = readme[readme.index(MARKER) :]
    match = re.search(r"```python\n(.*?)```", after, re.S)
    assert match is not None, "the example's code block follows the marker"
    return match.group(1)


def random_walk(n: int, seed: int = 3) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 1.1 + np.cumsum(rng.normal(0, 3e-4, n))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 1e-4, n))
    return {
        "time": 1_704_067_200 + 300 * np.arange(n, dtype=np.int64),
        "open": open_,
        "high": np.maximum(open_, close) + spread,
        "low": np.minimum(open_, close) - spread,
        "close": close,
        "tick_volume": rng.integers(1, 100, n).astype(np.float64),
        "spread": np.full(n, 10.0),
    }


@pytest.fixture(scope="module")
def momentum(tmp_path_factory: pytest.TempPathFactory) -> type:
    folder = tmp_path_factory.mktemp("my_strategies")
    (folder / "momentum.py").write_text(readme_example())
    (found,) = load_strategy_folder(Path(folder))
    return found


def test_the_example_registers_with_its_parameter_schema(momentum: type) -> None:
    registry = StrategyRegistry.with_builtins()
    registry.register(momentum)
    strategy = registry.build("momentum", {"closes": 4})
    assert strategy.warmup == 15
    assert set(momentum.params_schema()["properties"]) == {"closes", "stop_atr"}
    with pytest.raises(ValidationError):
        momentum.from_dict({"closes": 1})


def test_its_signals_at_each_bar_use_only_the_bars_up_to_it(momentum: type) -> None:
    bars = random_walk(400)
    strategy = momentum.from_dict({"closes": 3})
    whole = strategy.signals(bars)
    assert whole.entry_long.any() and whole.entry_short.any()
    for end in (20, 57, 133, 400):
        cut = strategy.signals({name: values[:end] for name, values in bars.items()})
        for name in ("entry_long", "exit_long", "entry_short", "exit_short"):
            assert getattr(cut, name)[-1] == getattr(whole, name)[end - 1], (name, end)
        np.testing.assert_array_equal(cut.sl[-1], whole.sl[end - 1])
    longs = np.flatnonzero(whole.entry_long[15:]) + 15
    assert (whole.sl[longs] < bars["close"][longs]).all(), "a long's stop is below the entry close"


def test_the_backtest_engine_trades_it_with_its_stops(momentum: type) -> None:
    result = run_backtest(
        random_walk(2_000),
        momentum.from_dict({"closes": 3, "stop_atr": 1.5}),
        BacktestConfig(
            initial_balance=10_000,
            leverage=100,
            sizing=SizingConfig(mode=SizingMode.RISK_PERCENT, value=1),
            symbol=SymbolFacts.from_spec(DEFAULT_SYMBOLS[0]),  # EURUSD
        ),
    )
    assert len(result.trades.pnl) > 10
    assert {"stop_loss", "signal"} <= set(result.trades.exit_reason.tolist())
