"""Model features from bars, chosen by name with parameters: returns, RSI, MACD, ATR, Bollinger width,
volatility and the time of day/week.

Every feature at bar t is computed from bars 0..t only (TA-Lib and trailing numpy windows), so a model
sees the same inputs in training, in a backtest and live. Values are scale-free (ratios to the close, log
returns), so one model can be applied to a symbol whatever its price level. Rows before a feature's
look-back are NaN. Indicators with exponential smoothing (RSI, ATR, MACD) depend slightly on where the
series starts, as in any TA-Lib use; predicting on a short window therefore needs a warm-up margin.

This module is shared: the ai service trains on these features and the `ml_signal` strategy computes the
same ones in the strategy and backtesting services. TA-Lib is imported where a feature is computed: it
imports pandas and pyarrow, ~0.3 s that those services would otherwise spend at every start-up.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

SECONDS_PER_DAY = 86_400
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday = 0


class _Feature(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    @abstractmethod
    def lookback(self) -> int:
        """Bars before the first defined value."""

    @property
    @abstractmethod
    def columns(self) -> list[str]:
        """Names of the matrix columns this feature fills."""

    @abstractmethod
    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """One float64 array per column, NaN where undefined."""


def _log_close(bars: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.log(bars["close"])


class Returns(_Feature):
    """Log return over `window` bars, ending `lag` bars before the current one."""

    name: Literal["returns"] = "returns"
    window: int = Field(default=1, ge=1, le=1000)
    lag: int = Field(default=0, ge=0, le=1000)

    @property
    def lookback(self) -> int:
        return self.window + self.lag

    @property
    def columns(self) -> list[str]:
        return [f"returns_{self.window}" + (f"_lag{self.lag}" if self.lag else "")]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        log_close = _log_close(bars)
        out = np.full(len(log_close), np.nan)
        if len(log_close) > self.lookback:
            out[self.lookback :] = (
                log_close[self.window : len(log_close) - self.lag]
                - log_close[: len(log_close) - self.window - self.lag]
            )
        return [out]


class Rsi(_Feature):
    """Relative strength index, scaled to 0..1."""

    name: Literal["rsi"] = "rsi"
    period: int = Field(default=14, ge=2, le=500)

    @property
    def lookback(self) -> int:
        return self.period

    @property
    def columns(self) -> list[str]:
        return [f"rsi_{self.period}"]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        import talib

        return [talib.RSI(bars["close"], timeperiod=self.period) / 100.0]


class Macd(_Feature):
    """MACD line and histogram, relative to the close."""

    name: Literal["macd"] = "macd"
    fast: int = Field(default=12, ge=2, le=500)
    slow: int = Field(default=26, ge=3, le=1000)
    signal: int = Field(default=9, ge=1, le=500)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> Macd:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self

    @property
    def lookback(self) -> int:
        return self.slow + self.signal - 2

    @property
    def columns(self) -> list[str]:
        suffix = f"{self.fast}_{self.slow}_{self.signal}"
        return [f"macd_{suffix}", f"macd_hist_{suffix}"]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        import talib

        close = bars["close"]
        macd, _, hist = talib.MACD(
            close, fastperiod=self.fast, slowperiod=self.slow, signalperiod=self.signal
        )
        return [macd / close, hist / close]


class Atr(_Feature):
    """Average true range relative to the close."""

    name: Literal["atr"] = "atr"
    period: int = Field(default=14, ge=1, le=500)

    @property
    def lookback(self) -> int:
        return self.period

    @property
    def columns(self) -> list[str]:
        return [f"atr_{self.period}"]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        import talib

        close = bars["close"]
        return [talib.ATR(bars["high"], bars["low"], close, timeperiod=self.period) / close]


class BollingerWidth(_Feature):
    """Bollinger band width (upper - lower) relative to the middle band."""

    name: Literal["bollinger_width"] = "bollinger_width"
    period: int = Field(default=20, ge=2, le=1000)
    deviations: float = Field(default=2.0, gt=0, le=10)

    @property
    def lookback(self) -> int:
        return self.period - 1

    @property
    def columns(self) -> list[str]:
        return [f"bollinger_width_{self.period}_{self.deviations:g}"]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        import talib

        upper, middle, lower = talib.BBANDS(
            bars["close"], timeperiod=self.period, nbdevup=self.deviations, nbdevdn=self.deviations
        )
        return [(upper - lower) / middle]


class Volatility(_Feature):
    """Standard deviation of one-bar log returns over a trailing window."""

    name: Literal["volatility"] = "volatility"
    window: int = Field(default=20, ge=2, le=5000)

    @property
    def lookback(self) -> int:
        return self.window

    @property
    def columns(self) -> list[str]:
        return [f"volatility_{self.window}"]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        returns = np.diff(_log_close(bars))
        out = np.full(len(returns) + 1, np.nan)
        if len(returns) >= self.window:
            out[self.window :] = sliding_window_view(returns, self.window).std(axis=1)
        return [out]


def _cycle(fraction: np.ndarray) -> list[np.ndarray]:
    angle = 2 * np.pi * fraction
    return [np.sin(angle), np.cos(angle)]


class TimeOfDay(_Feature):
    """Bar open time within the UTC day, as sine and cosine (so 23:59 is next to 00:00)."""

    name: Literal["time_of_day"] = "time_of_day"

    @property
    def lookback(self) -> int:
        return 0

    @property
    def columns(self) -> list[str]:
        return ["time_of_day_sin", "time_of_day_cos"]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        seconds = np.asarray(bars["time"], dtype=np.int64) % SECONDS_PER_DAY
        return _cycle(seconds / SECONDS_PER_DAY)


class DayOfWeek(_Feature):
    """Bar open time within the week (Monday 00:00 UTC = 0), as sine and cosine."""

    name: Literal["day_of_week"] = "day_of_week"

    @property
    def lookback(self) -> int:
        return 0

    @property
    def columns(self) -> list[str]:
        return ["day_of_week_sin", "day_of_week_cos"]

    def compute(self, bars: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        days = np.asarray(bars["time"], dtype=np.int64) / SECONDS_PER_DAY + _EPOCH_WEEKDAY
        return _cycle((days % 7) / 7)


FeatureSpec = Annotated[
    Returns | Rsi | Macd | Atr | BollingerWidth | Volatility | TimeOfDay | DayOfWeek,
    Field(discriminator="name"),
]
FEATURE_NAMES = (
    "returns",
    "rsi",
    "macd",
    "atr",
    "bollinger_width",
    "volatility",
    "time_of_day",
    "day_of_week",
)
_SPEC_LIST: TypeAdapter[list[FeatureSpec]] = TypeAdapter(list[FeatureSpec])


def parse_features(specs: Sequence[Mapping[str, Any]]) -> list[FeatureSpec]:
    """Feature specs from JSON-like dicts (raises pydantic.ValidationError naming the field)."""
    return _SPEC_LIST.validate_python(list(specs))


def dump_features(specs: Sequence[FeatureSpec]) -> list[dict[str, Any]]:
    """Feature specs as JSON-ready dicts, every parameter spelled out."""
    return [spec.model_dump() for spec in specs]


def feature_columns(specs: Sequence[FeatureSpec]) -> list[str]:
    """Matrix column names, in order; raises ValueError when two specs give the same column."""
    names = [name for spec in specs for name in spec.columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"features repeat columns {', '.join(duplicates)}")
    return names


def features_lookback(specs: Sequence[FeatureSpec]) -> int:
    """Rows at the start of a matrix that are NaN: the longest look-back of the specs."""
    return max((spec.lookback for spec in specs), default=0)


def build_features(bars: Mapping[str, np.ndarray], specs: Sequence[FeatureSpec]) -> np.ndarray:
    """The (bars, columns) float64 matrix of `specs`; rows before the look-back are NaN."""
    prices = {
        name: np.ascontiguousarray(bars[name], dtype=np.float64) for name in ("open", "high", "low", "close")
    }
    prices["time"] = np.asarray(bars["time"], dtype=np.int64)
    columns = [column for spec in specs for column in spec.compute(prices)]
    matrix = np.column_stack(columns) if columns else np.empty((len(prices["time"]), 0))
    matrix[: features_lookback(specs)] = np.nan
    return matrix
