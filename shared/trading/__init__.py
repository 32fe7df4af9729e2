"""The trading library: strategy interface, built-in strategies, registry and position sizing."""

from shared.trading.builtins import BUILTIN_STRATEGIES
from shared.trading.registry import (
    StrategyRegistry,
    build_strategy,
    get_strategy,
    list_strategies,
    load_strategy_folder,
)
from shared.trading.sizing import SizingConfig, SizingMode, floor_to_step, position_size
from shared.trading.strategy import (
    BAR_COLUMNS,
    Bars,
    ParamRuleError,
    Signals,
    Strategy,
    StrategyParams,
    column,
    crossed_above,
    crossed_below,
)

__all__ = [
    "BAR_COLUMNS",
    "BUILTIN_STRATEGIES",
    "Bars",
    "ParamRuleError",
    "Signals",
    "SizingConfig",
    "SizingMode",
    "Strategy",
    "StrategyParams",
    "StrategyRegistry",
    "build_strategy",
    "column",
    "crossed_above",
    "crossed_below",
    "floor_to_step",
    "get_strategy",
    "list_strategies",
    "load_strategy_folder",
    "position_size",
]
