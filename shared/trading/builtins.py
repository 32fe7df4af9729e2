"""The built-in strategies. Indicators come from TA-Lib; every event is computed from bars up to its own.

TA-Lib (which imports pandas and pyarrow) and the compiled crossing scan (numba) are imported where signals
are computed: at module level they would cost every service that imports the trading library ~0.5 s of
start-up.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from shared.trading.indicator_cache import cached_indicator
from shared.trading.strategy import (
    Bars,
    ParamRuleError,
    Signals,
    Strategy,
    StrategyParams,
    column,
    crossed_above,
    crossed_below,
)


class DirectionalParams(StrategyParams):
    allow_short: bool = Field(default=True, description="also trade the short side")


def _signals(
    p: DirectionalParams,
    entry_long: np.ndarray,
    exit_long: np.ndarray,
    entry_short: np.ndarray,
    exit_short: np.ndarray,
    sl: np.ndarray | None = None,
) -> Signals:
    if not p.allow_short:
        entry_short = np.zeros_like(entry_short)
        exit_short = np.zeros_like(exit_short)
    return Signals(entry_long, exit_long, entry_short, exit_short, sl=sl)


class CrossoverParams(DirectionalParams):
    fast: int = Field(default=10, ge=2, le=1000, description="fast moving-average period, bars")
    slow: int = Field(default=20, ge=3, le=5000, description="slow moving-average period, bars")

    @model_validator(mode="after")
    def _fast_below_slow(self) -> CrossoverParams:
        if self.fast >= self.slow:
            raise ParamRuleError("fast", f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self


class _MovingAverageCrossover(Strategy[CrossoverParams]):
    """Long when the fast average crosses above the slow one, short when it crosses below."""

    Params: ClassVar[type[StrategyParams]] = CrossoverParams

    @staticmethod
    @abstractmethod
    def _average(close: np.ndarray, period: int) -> np.ndarray:
        """The moving average of `close` over `period` bars."""

    @property
    def warmup(self) -> int:
        return self.params.slow

    @property
    def sets_stop_loss(self) -> bool:
        return False

    def signals(self, bars: Bars) -> Signals:
        from shared.trading.crossings import crossings

        close = column(bars, "close")
        fast = self._average(close, self.params.fast)
        slow = self._average(close, self.params.slow)
        up, down = crossings(fast, slow)
        return _signals(self.params, up, down, down, up)


class SmaCrossover(_MovingAverageCrossover):
    name = "sma_crossover"
    description = "Simple moving-average crossover"

    @staticmethod
    def _average(close: np.ndarray, period: int) -> np.ndarray:
        import talib

        return cached_indicator(("SMA", period), close, lambda: talib.SMA(close, timeperiod=period))


class EmaCrossover(_MovingAverageCrossover):
    name = "ema_crossover"
    description = "Exponential moving-average crossover"

    @staticmethod
    def _average(close: np.ndarray, period: int) -> np.ndarray:
        import talib

        return cached_indicator(("EMA", period), close, lambda: talib.EMA(close, timeperiod=period))


class RsiParams(DirectionalParams):
    period: int = Field(default=14, ge=2, le=500)
    lower: float = Field(default=30.0, gt=0, lt=100, description="oversold level")
    upper: float = Field(default=70.0, gt=0, lt=100, description="overbought level")
    exit_level: float = Field(default=50.0, gt=0, lt=100, description="level where a trade is closed")

    @model_validator(mode="after")
    def _ordered_levels(self) -> RsiParams:
        if not self.lower < self.exit_level < self.upper:
            raise ParamRuleError(
                "exit_level",
                f"levels must satisfy lower < exit_level < upper, got {self.lower}, {self.exit_level}, "
                f"{self.upper}",
            )
        return self


class RsiMeanReversion(Strategy[RsiParams]):
    """Long when RSI leaves oversold, short when it leaves overbought; out when it crosses the exit level."""

    name = "rsi_mean_reversion"
    description = "RSI mean reversion"
    Params = RsiParams

    @property
    def warmup(self) -> int:
        return self.params.period + 1

    @property
    def sets_stop_loss(self) -> bool:
        return False

    def signals(self, bars: Bars) -> Signals:
        import talib

        p = self.params
        rsi = talib.RSI(column(bars, "close"), timeperiod=p.period)
        return _signals(
            p,
            crossed_above(rsi, p.lower),
            crossed_above(rsi, p.exit_level),
            crossed_below(rsi, p.upper),
            crossed_below(rsi, p.exit_level),
        )


class BollingerParams(DirectionalParams):
    period: int = Field(default=20, ge=2, le=1000)
    deviations: float = Field(default=2.0, gt=0, le=10, description="band width in standard deviations")


class BollingerBreakout(Strategy[BollingerParams]):
    """Long when the close breaks above the upper band, short below the lower; out at the middle band."""

    name = "bollinger_breakout"
    description = "Bollinger band breakout"
    Params = BollingerParams

    @property
    def warmup(self) -> int:
        return self.params.period

    @property
    def sets_stop_loss(self) -> bool:
        return False

    def signals(self, bars: Bars) -> Signals:
        import talib

        p = self.params
        close = column(bars, "close")
        upper, middle, lower = talib.BBANDS(
            close, timeperiod=p.period, nbdevup=p.deviations, nbdevdn=p.deviations, matype=talib.MA_Type.SMA
        )
        return _signals(
            p,
            crossed_above(close, upper),
            crossed_below(close, middle),
            crossed_below(close, lower),
            crossed_above(close, middle),
        )


class MacdParams(DirectionalParams):
    fast: int = Field(default=12, ge=2, le=500)
    slow: int = Field(default=26, ge=3, le=1000)
    signal: int = Field(default=9, ge=1, le=500)

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MacdParams:
        if self.fast >= self.slow:
            raise ParamRuleError("fast", f"fast ({self.fast}) must be less than slow ({self.slow})")
        return self


class MacdTrend(Strategy[MacdParams]):
    """Long when MACD crosses above its signal line, short when it crosses below."""

    name = "macd_trend"
    description = "MACD signal-line trend"
    Params = MacdParams

    @property
    def warmup(self) -> int:
        return self.params.slow + self.params.signal - 1

    @property
    def sets_stop_loss(self) -> bool:
        return False

    def signals(self, bars: Bars) -> Signals:
        import talib

        from shared.trading.crossings import crossings

        p = self.params
        macd, signal, _ = talib.MACD(
            column(bars, "close"), fastperiod=p.fast, slowperiod=p.slow, signalperiod=p.signal
        )
        up, down = crossings(macd, signal)
        return _signals(p, up, down, down, up)


class DonchianParams(DirectionalParams):
    entry_period: int = Field(default=20, ge=2, le=1000, description="breakout channel, bars")
    # TA-Lib's MAX and MIN refuse a period below 2 (TA_BAD_PARAM).
    exit_period: int = Field(default=10, ge=2, le=1000, description="exit channel, bars")
    atr_period: int = Field(default=14, ge=1, le=500)
    stop_atr: float = Field(default=2.0, ge=0, le=50, description="stop-loss distance in ATRs; 0 = none")

    @model_validator(mode="after")
    def _exit_within_entry(self) -> DonchianParams:
        if self.exit_period > self.entry_period:
            raise ParamRuleError(
                "exit_period",
                f"exit_period ({self.exit_period}) must not exceed entry_period ({self.entry_period})",
            )
        return self


def _shifted(values: np.ndarray) -> np.ndarray:
    """values[i-1] at i, so a channel of past bars never includes the bar being tested."""
    out = np.empty_like(values)
    out[0] = np.nan
    out[1:] = values[:-1]
    return out


class DonchianBreakout(Strategy[DonchianParams]):
    """Turtle-style: long above the highest high of the past N bars, out below the lowest low of M."""

    name = "donchian_breakout"
    description = "Donchian channel breakout with an ATR stop"
    Params = DonchianParams

    @property
    def warmup(self) -> int:
        return self.first_valid_bar

    @property
    def first_valid_bar(self) -> int:
        # The shifted channel's first value is at entry_period, ATR's at atr_period (it needs a previous
        # close); a breakout needs no previous value, so signals count from that bar on.
        p = self.params
        return max(p.entry_period, p.atr_period if p.stop_atr > 0 else 0)

    @property
    def sets_stop_loss(self) -> bool:
        return self.params.stop_atr > 0

    def signals(self, bars: Bars) -> Signals:
        import talib

        p = self.params
        high, low, close = column(bars, "high"), column(bars, "low"), column(bars, "close")
        entry_hi = _shifted(talib.MAX(high, timeperiod=p.entry_period))
        entry_lo = _shifted(talib.MIN(low, timeperiod=p.entry_period))
        exit_hi = _shifted(talib.MAX(high, timeperiod=p.exit_period))
        exit_lo = _shifted(talib.MIN(low, timeperiod=p.exit_period))
        with np.errstate(invalid="ignore"):
            entry_long, entry_short = close > entry_hi, close < entry_lo
            exit_long, exit_short = close < exit_lo, close > exit_hi
        sl = None
        if p.stop_atr > 0:
            distance = p.stop_atr * talib.ATR(high, low, close, timeperiod=p.atr_period)
            sl = np.where(entry_long, close - distance, np.where(entry_short, close + distance, np.nan))
        return _signals(p, entry_long, exit_long, entry_short, exit_short, sl)


BUILTIN_STRATEGIES: tuple[type[Strategy], ...] = (
    SmaCrossover,
    EmaCrossover,
    RsiMeanReversion,
    BollingerBreakout,
    MacdTrend,
    DonchianBreakout,
)
