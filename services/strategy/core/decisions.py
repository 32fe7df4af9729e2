"""What to do on one closed bar, given its signals and the position held: the backtest's rule, verbatim.

This is step 4 of the backtest fill loop (services/backtesting/core/fills.py), for one bar: an exit
signal, or an entry the other way, closes the position (exclusive orders); an entry opens when flat after
that; an entry in the direction already held is ignored; both entries at once cancel each other. A unit
test replays random signals through both and compares.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from shared.trading.strategy import Signals


class Reason(StrEnum):
    ENTRY_LONG = "entry_long"
    ENTRY_SHORT = "entry_short"
    EXIT_LONG = "exit_long"
    EXIT_SHORT = "exit_short"
    REVERSE = "reverse"
    ALREADY_LONG = "already_long"
    ALREADY_SHORT = "already_short"
    CONFLICTING_ENTRIES = "conflicting_entries"
    NOTHING_TO_EXIT = "nothing_to_exit"


@dataclass(frozen=True, slots=True)
class BarSignal:
    """The four signals of one bar, and the SL/TP levels the strategy gives an entry there (None: none)."""

    entry_long: bool
    exit_long: bool
    entry_short: bool
    exit_short: bool
    sl: float | None = None
    tp: float | None = None

    @classmethod
    def at(cls, signals: Signals, i: int) -> BarSignal:
        """Bar `i` of vectorised signals."""
        return cls(
            bool(signals.entry_long[i]),
            bool(signals.exit_long[i]),
            bool(signals.entry_short[i]),
            bool(signals.exit_short[i]),
            _level(signals.sl, i),
            _level(signals.tp, i),
        )

    @property
    def any(self) -> bool:
        return self.entry_long or self.exit_long or self.entry_short or self.exit_short

    def to_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def _level(values: np.ndarray | None, i: int) -> float | None:
    if values is None:
        return None
    value = float(values[i])
    return None if np.isnan(value) else value


@dataclass(frozen=True, slots=True)
class Decision:
    """Close the held position (why), then open `open` (+1 long, -1 short, 0 none); `ignored` says why a
    signal led to nothing."""

    close: Reason | None = None
    open: int = 0
    ignored: Reason | None = None


def decide(signal: BarSignal, held: int) -> Decision:
    """The orders bar `signal` gives when `held` (+1 long, -1 short, 0 flat) is the position."""
    want = 0
    if signal.entry_long and not signal.entry_short:
        want = 1
    elif signal.entry_short and not signal.entry_long:
        want = -1
    close = None
    if held > 0 and (signal.exit_long or want < 0):
        close = Reason.REVERSE if want < 0 else Reason.EXIT_LONG
    elif held < 0 and (signal.exit_short or want > 0):
        close = Reason.REVERSE if want > 0 else Reason.EXIT_SHORT
    after = 0 if close is not None else held
    open_ = want if want not in (0, after) else 0
    ignored = None
    if close is None and open_ == 0 and signal.any:
        if signal.entry_long and signal.entry_short:
            ignored = Reason.CONFLICTING_ENTRIES
        elif want != 0:
            ignored = Reason.ALREADY_LONG if want > 0 else Reason.ALREADY_SHORT
        else:
            ignored = Reason.NOTHING_TO_EXIT
    return Decision(close=close, open=open_, ignored=ignored)
