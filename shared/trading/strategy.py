"""The strategy interface: validated parameters, a warm-up length and vectorised signals on column arrays.

The same `signals()` runs over a whole history in a backtest and live on the bars up to the last closed
candle; a signal at bar i may only use bars 0..i, so both give the same answer for bar i.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeAlias, TypeVar, cast

import numpy as np
from pydantic import BaseModel, ConfigDict

from shared.market.bar_input import BAR_COLUMNS as BAR_COLUMNS  # re-exported: the trading library names it

if TYPE_CHECKING:
    import pandas as pd

# Quoted so that pandas (~0.3 s with the pyarrow it loads) is imported only by code that uses DataFrames, not
# by every service that imports the trading library.
Bars: TypeAlias = "Mapping[str, np.ndarray] | pd.DataFrame"


class ParamRuleError(ValueError):
    """A cross-field parameter rule broken; `field` names the parameter the message is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class StrategyParams(BaseModel):
    """Base of every parameter model: unknown keys are refused, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=StrategyParams)


@dataclass(frozen=True, slots=True)
class Signals:
    """Per-bar boolean events, and optional SL/TP price levels for an entry at that bar (NaN = none)."""

    entry_long: np.ndarray
    exit_long: np.ndarray
    entry_short: np.ndarray
    exit_short: np.ndarray
    sl: np.ndarray | None = None
    tp: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.entry_long)
        for name in ("exit_long", "entry_short", "exit_short", "sl", "tp"):
            arr = getattr(self, name)
            if arr is not None and len(arr) != n:
                raise ValueError(f"signal array {name!r} has length {len(arr)}, expected {n}")

    def __len__(self) -> int:
        return len(self.entry_long)


def column(bars: Bars, name: str) -> np.ndarray:
    """One bar column as a contiguous float64 array, whether `bars` is a dict of arrays or a DataFrame."""
    return np.ascontiguousarray(bars[name], dtype=np.float64)  # a pandas Series converts itself


def crossed_above(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True at i when a[i-1] < b[i-1] and a[i] > b[i] (strict, as backtesting.lib.crossover); NaN never."""
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    out = np.zeros(a.shape, dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        out[1:] = (a[:-1] < b_arr[:-1]) & (a[1:] > b_arr[1:])
    return out


def crossed_below(a: np.ndarray, b: np.ndarray | float) -> np.ndarray:
    """True at i when a[i-1] > b[i-1] and a[i] < b[i]."""
    b_arr = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
    return crossed_above(b_arr, a)


class Strategy(ABC, Generic[P]):
    """A trading rule. Subclasses set `name`, `Params` and implement `warmup` and `signals`."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Params: ClassVar[type[StrategyParams]]

    def __init__(self, params: P) -> None:
        self.params: P = params

    @classmethod
    def from_dict(cls, params: Mapping[str, Any]) -> Strategy[Any]:
        """Validate `params` against the model and build the strategy (raises pydantic.ValidationError)."""
        return cls(cast(Any, cls.Params.model_validate(dict(params))))

    @classmethod
    def params_schema(cls) -> dict[str, Any]:
        """JSON Schema of the parameters, for building forms."""
        return cls.Params.model_json_schema()

    @property
    @abstractmethod
    def warmup(self) -> int:
        """Bars needed before the first meaningful signal; signals before this bar index are ignored."""

    @property
    def first_valid_bar(self) -> int:
        """The first bar where every indicator has a value (buy & hold is measured from it, as
        backtesting.py does). The default suits indicators whose first value is at `warmup - 1`, where a
        crossing can first be seen one bar later; override it when that is not so."""
        return max(self.warmup - 1, 0)

    @property
    def sets_stop_loss(self) -> bool:
        """Whether entries may carry a stop-loss. Risk-percent sizing needs one, so a strategy that says
        False is refused with it; the default True means "may": entries without a stop are then skipped
        and counted in the run's warnings."""
        return True

    @abstractmethod
    def signals(self, bars: Bars) -> Signals:
        """Entries and exits for every bar, using only data up to and including that bar."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"
