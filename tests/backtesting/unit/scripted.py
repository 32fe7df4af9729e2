"""A strategy whose signals are given arrays, for testing the fill loop bar by bar."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from shared.trading.strategy import Bars, Signals, Strategy, StrategyParams


class NoParams(StrategyParams):
    pass


class Scripted(Strategy[NoParams]):
    name = "scripted"
    Params: ClassVar[type[StrategyParams]] = NoParams

    def __init__(
        self,
        n: int,
        *,
        warmup: int = 1,
        sl: np.ndarray | None = None,
        tp: np.ndarray | None = None,
        **events: list[int],
    ) -> None:
        super().__init__(NoParams())
        self._warmup = warmup
        arrays = {}
        for name in ("entry_long", "exit_long", "entry_short", "exit_short"):
            arr = np.zeros(n, dtype=bool)
            arr[events.get(name, [])] = True
            arrays[name] = arr
        self._signals = Signals(**arrays, sl=sl, tp=tp)

    @property
    def warmup(self) -> int:
        return self._warmup

    def signals(self, bars: Bars) -> Signals:
        return self._signals


def make_bars(
    open_: list[float],
    high: list[float] | None = None,
    low: list[float] | None = None,
    close: list[float] | None = None,
    spread: list[float] | None = None,
) -> dict[str, np.ndarray]:
    """Hourly bars from lists; high/low default to the max/min of open and close, close to the open."""
    o = np.asarray(open_, dtype=float)
    c = np.asarray(close if close is not None else open_, dtype=float)
    bars = {
        "time": 1_700_000_000 + 3600 * np.arange(len(o)),
        "open": o,
        "high": np.asarray(high, dtype=float) if high is not None else np.maximum(o, c),
        "low": np.asarray(low, dtype=float) if low is not None else np.minimum(o, c),
        "close": c,
    }
    if spread is not None:
        bars["spread"] = np.asarray(spread, dtype=float)
    return bars


def nan_levels(n: int, at: dict[int, float]) -> np.ndarray:
    levels = np.full(n, np.nan)
    for i, v in at.items():
        levels[i] = v
    return levels
