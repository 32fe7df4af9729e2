"""Performance statistics, defined as backtesting.py 0.6.6 defines them (risk-free rate 0), plus a few more.

Equity is resampled to the last value per calendar day (per week, month or year for such bars), returns are
compounded and annualised over 252 trading days (365 when bars fall on weekends); durations are seconds,
rounded up to the bar period's unit (a day for daily bars, an hour for hourly ones).

The per-bar work is a few compiled passes with no per-bar temporaries (a 1,000,000-bar run's metrics take
a few milliseconds); they equal the numpy definitions up to rounding (tests/backtesting/unit/
test_metric_kernels.py checks them against those). They live in metric_kernels.py, imported where they
run, so that numba is not part of the service's start-up.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

DAY_S = 86_400


class Metrics(BaseModel):
    """Run statistics. Aliases are backtesting.py's names; NaN (undefined) serialises to JSON null."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="null")

    start: float = Field(serialization_alias="Start", description="epoch seconds")
    end: float = Field(serialization_alias="End", description="epoch seconds")
    duration_s: float = Field(serialization_alias="Duration")
    exposure_time_pct: float = Field(serialization_alias="Exposure Time [%]")
    equity_final: float = Field(serialization_alias="Equity Final [$]")
    equity_peak: float = Field(serialization_alias="Equity Peak [$]")
    commissions: float = Field(serialization_alias="Commissions [$]")
    return_pct: float = Field(serialization_alias="Return [%]")
    buy_hold_return_pct: float = Field(serialization_alias="Buy & Hold Return [%]")
    return_ann_pct: float = Field(serialization_alias="Return (Ann.) [%]")
    volatility_ann_pct: float = Field(serialization_alias="Volatility (Ann.) [%]")
    cagr_pct: float = Field(serialization_alias="CAGR [%]")
    sharpe_ratio: float = Field(serialization_alias="Sharpe Ratio")
    sortino_ratio: float = Field(serialization_alias="Sortino Ratio")
    calmar_ratio: float = Field(serialization_alias="Calmar Ratio")
    alpha_pct: float = Field(serialization_alias="Alpha [%]")
    beta: float = Field(serialization_alias="Beta")
    max_drawdown_pct: float = Field(serialization_alias="Max. Drawdown [%]")
    avg_drawdown_pct: float = Field(serialization_alias="Avg. Drawdown [%]")
    max_drawdown_duration_s: float = Field(serialization_alias="Max. Drawdown Duration")
    avg_drawdown_duration_s: float = Field(serialization_alias="Avg. Drawdown Duration")
    trades: int = Field(serialization_alias="# Trades")
    win_rate_pct: float = Field(serialization_alias="Win Rate [%]")
    best_trade_pct: float = Field(serialization_alias="Best Trade [%]")
    worst_trade_pct: float = Field(serialization_alias="Worst Trade [%]")
    avg_trade_pct: float = Field(serialization_alias="Avg. Trade [%]")
    max_trade_duration_s: float = Field(serialization_alias="Max. Trade Duration")
    avg_trade_duration_s: float = Field(serialization_alias="Avg. Trade Duration")
    profit_factor: float = Field(serialization_alias="Profit Factor")
    expectancy_pct: float = Field(serialization_alias="Expectancy [%]")
    sqn: float = Field(serialization_alias="SQN")
    kelly_criterion: float = Field(serialization_alias="Kelly Criterion")
    max_consecutive_wins: int = Field(serialization_alias="Max. Consecutive Wins")
    max_consecutive_losses: int = Field(serialization_alias="Max. Consecutive Losses")
    avg_winner_duration_s: float = Field(serialization_alias="Avg. Winner Duration")
    avg_loser_duration_s: float = Field(serialization_alias="Avg. Loser Duration")
    profit_factor_money: float = Field(serialization_alias="Profit Factor [$]")


def _nan_if_zero(x: float) -> float:
    return x if x else math.nan


def _geometric_mean(returns: np.ndarray) -> float:
    growth = np.nan_to_num(returns) + 1.0
    if np.any(growth <= 0):
        return 0.0
    return math.exp(np.log(growth).sum() / (len(growth) or math.nan)) - 1.0


def _bar_period_s(time: np.ndarray) -> float:
    tail = time[-100:]
    return float(np.median(np.diff(tail))) if len(tail) > 1 else math.nan


def _ceil_to_unit(seconds: float, period_s: float) -> float:
    """Round a duration up to the coarsest unit (day, hour, minute, second) that divides the bar period."""
    if not math.isfinite(seconds) or not math.isfinite(period_s):
        return seconds
    unit = next((u for u in (DAY_S, 3600, 60, 1) if period_s % u == 0), 1)
    return math.ceil(seconds / unit) * unit


# Bars per block of logarithms: two blocks of logs stay in the CPU cache instead of two arrays of the
# series' length being allocated (and page-faulted in) per run.
_LOG_BLOCK = 1 << 15


def _log_return_beta(equity: np.ndarray, market: np.ndarray) -> float:
    """Beta of the per-bar log returns of equity against those of the market (cov / var, as np.cov)."""
    from services.backtesting.core.metric_kernels import deviation_products

    n = len(equity)
    if n < 3:
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        # The mean of the log differences telescopes to (last - first) / count.
        mean_e = float(np.log(equity[-1]) - np.log(equity[0])) / (n - 1)
        mean_m = float(np.log(market[-1]) - np.log(market[0])) / (n - 1)
        log_e, log_m = np.empty(_LOG_BLOCK + 1), np.empty(_LOG_BLOCK + 1)
        cov = var = 0.0
        for first in range(0, n - 1, _LOG_BLOCK):
            stop = min(first + _LOG_BLOCK + 1, n)  # blocks overlap by one bar so every difference is seen
            size = stop - first
            np.log(equity[first:stop], out=log_e[:size])
            np.log(market[first:stop], out=log_m[:size])
            block_cov, block_var = deviation_products(log_e[:size], log_m[:size], mean_e, mean_m)
            cov += block_cov
            var += block_var
    # A zero, negative or non-finite value makes a log difference non-finite, and np.cov's answer NaN.
    if not (math.isfinite(cov) and math.isfinite(var)):
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(cov) / var)


def _period_key(time: np.ndarray, freq_days: int) -> tuple[np.ndarray, int, int]:
    """(key, offset, length) with calendar period = (key + offset) // length: the day, or the Monday..Sunday
    week (1970-01-01 was a Thursday) for weekly bars, or the month or year for such bars."""
    if freq_days == 7:
        return time, 3 * DAY_S, 7 * DAY_S
    if freq_days in (31, 365):
        unit = "M" if freq_days == 31 else "Y"
        days = np.floor_divide(time, DAY_S).astype("datetime64[D]")
        return days.astype(f"datetime64[{unit}]").astype(np.int64), 0, 1
    return time, 0, DAY_S


def compute_metrics(
    *,
    time: np.ndarray,
    close: np.ndarray,
    equity: np.ndarray,
    entry_bar: np.ndarray,
    exit_bar: np.ndarray,
    pnl: np.ndarray,
    returns: np.ndarray,
    durations_s: np.ndarray,
    commissions: np.ndarray,
    first_trading_bar: int,
) -> Metrics:
    """Metrics of one run. `time` is epoch seconds per bar; trade arrays hold closed trades only."""
    from services.backtesting.core.metric_kernels import scan_equity, trade_sums

    n_bars, n_trades = len(equity), len(pnl)
    if n_bars == 0:
        raise ValueError("metrics need at least one bar")  # the compiled scans do not check bounds
    period_s = _bar_period_s(time)
    freq_days = int(period_s // DAY_S) if math.isfinite(period_s) else 0
    key, key_offset, key_length = _period_key(time, freq_days)
    period_ends, equity_peak, max_dd, n_spells, spell_s_sum, spell_s_max, spell_depth_sum = scan_equity(
        time, equity, key, key_offset, key_length
    )
    max_dd = -max_dd
    beta = _log_return_beta(equity, close)

    if freq_days in (7, 31, 365):
        trading_days = {7: 52, 31: 12, 365: 1}[freq_days]
    else:
        # Periods are runs of bars of one day, so the weekend share of bars follows from the days' sizes.
        days = np.floor_divide(time[period_ends], DAY_S)
        bars_per_day = np.diff(period_ends, prepend=-1)
        weekend_share = bars_per_day[(days + 3) % 7 >= 5].sum() / n_bars
        trading_days = 365 if weekend_share > 2 / 7 * 0.6 else 252
    period_equity = equity[period_ends]
    day_returns = period_equity[1:] / period_equity[:-1] - 1.0
    gmean = _geometric_mean(day_returns)
    ann_return = (1 + gmean) ** trading_days - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        day_var = float(np.var(day_returns, ddof=1)) if len(day_returns) > 1 else math.nan
        volatility = (
            math.sqrt(
                max((day_var + (1 + gmean) ** 2) ** trading_days - (1 + gmean) ** (2 * trading_days), 0.0)
            )
            if math.isfinite(day_var)
            else math.nan
        )
        downside = math.sqrt(np.mean(np.clip(day_returns, -np.inf, 0) ** 2)) if len(day_returns) else math.nan
        sortino = (
            ann_return / (downside * math.sqrt(trading_days))
            if downside
            else (math.inf if ann_return > 0 else math.nan)
        )

    duration_s = float(time[-1] - time[0])
    years = duration_s / DAY_S / 365.25
    ret_pct = (equity[-1] - equity[0]) / equity[0] * 100
    c0 = close[first_trading_bar]
    bh_pct = (close[-1] - c0) / c0 * 100
    ann_return_pct = ann_return * 100
    volatility_pct = volatility * 100

    t = trade_sums(entry_bar, exit_bar, pnl, returns, durations_s)
    win_rate = t.wins / n_trades if n_trades else math.nan
    avg_win = t.pnl_win / t.wins if t.wins else math.nan
    avg_loss = -t.pnl_loss / t.losses if t.losses else math.nan

    def rounded(seconds: float, count: int) -> float:
        return _ceil_to_unit(seconds, period_s) if count else math.nan

    return Metrics(
        start=float(time[0]),
        end=float(time[-1]),
        duration_s=duration_s,
        exposure_time_pct=t.bars_in_trades / n_bars * 100,
        equity_final=float(equity[-1]),
        equity_peak=equity_peak,
        commissions=float(commissions.sum()),
        return_pct=ret_pct,
        buy_hold_return_pct=bh_pct,
        return_ann_pct=ann_return_pct,
        volatility_ann_pct=volatility_pct,
        cagr_pct=((equity[-1] / equity[0]) ** (1 / years) - 1) * 100 if years else math.nan,
        sharpe_ratio=ann_return_pct / _nan_if_zero(volatility_pct),
        sortino_ratio=sortino,
        calmar_ratio=ann_return / _nan_if_zero(-max_dd),
        alpha_pct=ret_pct - beta * bh_pct,
        beta=beta,
        max_drawdown_pct=max_dd * 100,
        avg_drawdown_pct=-spell_depth_sum / n_spells * 100 if n_spells else math.nan,
        max_drawdown_duration_s=_ceil_to_unit(spell_s_max, period_s) if n_spells else math.nan,
        avg_drawdown_duration_s=_ceil_to_unit(spell_s_sum / n_spells, period_s) if n_spells else math.nan,
        trades=n_trades,
        win_rate_pct=win_rate * 100,
        best_trade_pct=float(returns.max()) * 100 if n_trades else math.nan,
        worst_trade_pct=float(returns.min()) * 100 if n_trades else math.nan,
        avg_trade_pct=_geometric_mean(returns) * 100 if n_trades else math.nan,
        max_trade_duration_s=rounded(float(durations_s.max()) if n_trades else math.nan, n_trades),
        avg_trade_duration_s=rounded(float(durations_s.mean()) if n_trades else math.nan, n_trades),
        profit_factor=t.ret_gain / _nan_if_zero(abs(t.ret_drop)),
        expectancy_pct=float(returns.mean()) * 100 if n_trades else math.nan,
        sqn=math.sqrt(n_trades) * float(pnl.mean()) / _nan_if_zero(float(np.std(pnl, ddof=1)))
        if n_trades > 1
        else math.nan,
        kelly_criterion=win_rate - (1 - win_rate) / (avg_win / avg_loss),
        max_consecutive_wins=t.max_win_run,
        max_consecutive_losses=t.max_loss_run,
        avg_winner_duration_s=rounded(t.duration_win / max(t.wins, 1), t.wins),
        avg_loser_duration_s=rounded(t.duration_loss / max(t.losses, 1), t.losses),
        profit_factor_money=t.pnl_win / _nan_if_zero(abs(t.pnl_loss)),
    )


def drawdown_pct(equity: np.ndarray) -> np.ndarray:
    """Per-bar drawdown from the running equity peak, in percent (<= 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return (1.0 - equity / np.maximum.accumulate(equity)) * -100
