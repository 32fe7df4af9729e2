"""Built-in strategies, the registry and user strategy folders."""

from __future__ import annotations

import numpy as np
import pytest

from shared.errors import InvalidInputError, NotFoundError
from shared.trading import (
    BUILTIN_STRATEGIES,
    StrategyRegistry,
    build_strategy,
    list_strategies,
    load_strategy_folder,
)
from tests.support.bars import random_walk_bars

N = 600


def _fields(signals) -> dict[str, np.ndarray]:
    return (
        {k: v for k, v in vars(signals).items() if v is not None}
        if hasattr(signals, "__dict__")
        else {
            name: getattr(signals, name) for name in signals.__slots__ if getattr(signals, name) is not None
        }
    )


@pytest.mark.parametrize("cls", BUILTIN_STRATEGIES, ids=lambda c: c.name)
def test_strategy_later_bars_changed_signals_up_to_bar_unchanged(cls) -> None:
    strategy = cls.from_dict({})
    bars = random_walk_bars(N, seed=1)
    full = _fields(strategy.signals(bars))
    assert any(full[name].any() for name in ("entry_long", "entry_short")), "strategy never trades"
    for cut in (strategy.warmup + 5, N // 2, N - 2):
        perturbed = {k: v.copy() for k, v in bars.items()}
        for name in ("open", "high", "low", "close"):
            perturbed[name][cut + 1 :] *= 1.3
        live = _fields(strategy.signals({k: v[: cut + 1] for k, v in bars.items()}))
        changed = _fields(strategy.signals(perturbed))
        for name, values in full.items():
            np.testing.assert_array_equal(changed[name][: cut + 1], values[: cut + 1], err_msg=name)
            # Live on the last closed candle gives what the backtest gave for that bar.
            np.testing.assert_array_equal(live[name], values[: cut + 1], err_msg=name)


@pytest.mark.parametrize("cls", BUILTIN_STRATEGIES, ids=lambda c: c.name)
def test_strategy_before_warmup_no_entries(cls) -> None:
    strategy = cls.from_dict({})
    signals = strategy.signals(random_walk_bars(N, seed=2))
    assert not signals.entry_long[: strategy.warmup - 1].any()
    assert not signals.entry_short[: strategy.warmup - 1].any()


def test_strategy_allow_short_false_never_enters_short() -> None:
    signals = build_strategy("sma_crossover", {"allow_short": False}).signals(random_walk_bars(N, seed=3))
    assert not signals.entry_short.any() and signals.entry_long.any()


def test_registry_lists_every_builtin_with_a_json_schema() -> None:
    listed = {s["name"]: s for s in list_strategies()}
    assert set(listed) == {c.name for c in BUILTIN_STRATEGIES} | {"ml_signal"}
    schema = listed["sma_crossover"]["params_schema"]
    assert schema["properties"]["fast"]["minimum"] == 2


def test_registry_unknown_name_raises_not_found() -> None:
    with pytest.raises(NotFoundError) as exc:
        build_strategy("no_such")
    assert exc.value.code == "unknown_strategy"


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("sma_crossover", {"fast": 30, "slow": 20}, "fast"),
        ("sma_crossover", {"fast": 1}, "fast"),
        ("rsi_mean_reversion", {"lower": 60, "exit_level": 50}, "exit_level"),
        ("donchian_breakout", {"entry_period": 10, "exit_period": 20}, "exit_period"),
        ("donchian_breakout", {"exit_period": 1}, "exit_period"),  # TA-Lib MAX/MIN need 2
        ("macd_trend", {"bogus": 1}, "bogus"),
    ],
)
def test_registry_invalid_params_name_the_field(name: str, params: dict, field: str) -> None:
    with pytest.raises(InvalidInputError) as exc:
        build_strategy(name, params)
    assert exc.value.code == "invalid_params"
    assert [e["field"] for e in exc.value.details["errors"]] == [field]


def test_load_strategy_folder_registers_user_strategy(tmp_path) -> None:
    (tmp_path / "always_long.py").write_text(
        "import numpy as np\n"
        "from shared.trading import Signals, Strategy, StrategyParams, column\n"
        "class P(StrategyParams):\n    pass\n"
        "class AlwaysLong(Strategy):\n"
        "    name = 'always_long'\n    Params = P\n    warmup = 1\n"
        "    def signals(self, bars):\n"
        "        n = len(column(bars, 'close'))\n        z = np.zeros(n, bool)\n"
        "        return Signals(np.ones(n, bool), z, z, z)\n"
    )
    registry = StrategyRegistry.with_builtins()
    for cls in load_strategy_folder(tmp_path):
        registry.register(cls)
    assert "always_long" in registry.names()
    assert registry.build("always_long").signals(random_walk_bars(N, seed=4)).entry_long.all()
