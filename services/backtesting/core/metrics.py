"""Performance statistics, defined as backtesting.py 0.6.6 defines them (risk-free rate 0), plus a few more.

Equity is resampled to the last value per calendar day (per week, month or year for such bars), returns are
compounded and annualised over 252 trading days (365 when bars fall on weekends); durations are seconds,
rounded up to the bar period's unit (a day for daily bars, an hour for hourly ones).
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


def _period_returns(days: np.ndarray, equity: np.ndarray, freq_days: int) -> np.ndarray:
    """Returns between the last equity of consecutive calendar periods (from epoch days) that have bars."""
    if freq_days == 7:
        key = (days + 3) // 7  # weeks Monday..Sunday (1970-01-01 was a Thursday)
    elif freq_days in (31, 365):
        unit = "M" if freq_days == 31 else "Y"
        key = days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)
    else:
        key = days
    last_of_period = np.flatnonzero(np.r_[key[1:] != key[:-1], True])
    closes = equity[last_of_period]
    return closes[1:] / closes[:-1] - 1.0


def _drawdown_spells(time: np.ndarray, dd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(duration_s, peak drawdown) of each spell between equity highs (the last one may be unfinished)."""
    marks = np.unique(np.r_[np.flatnonzero(dd == 0), len(dd) - 1])
    prev, cur = marks[:-1], marks[1:]
    spell = cur > prev + 1
    prev, cur = prev[spell], cur[spell]
    if len(prev) == 0:
        return np.empty(0), np.empty(0)
    # Spells are ordered and disjoint, so reduceat over [prev_k, cur_k) gives each spell's peak; dd[cur_k]
    # adds the closing bar (non-zero only when the last spell is unfinished).
    bounds = np.column_stack([prev, cur]).ravel()
    peaks = np.maximum(np.maximum.reduceat(dd, bounds)[::2], dd[cur])
    return (time[cur] - time[prev]).astype(np.float64), peaks


def _bars_in_trades(entry_bar: np.ndarray, exit_bar: np.ndarray) -> int:
    """Bars covered by at least one trade, entry and exit bar included. Trades follow one another, so
    only a trade entered on its predecessor's exit bar (a reversal) overlaps, by that one bar."""
    if len(entry_bar) == 0:
        return 0
    overlap = np.maximum(exit_bar[:-1] - entry_bar[1:] + 1, 0)
    return int((exit_bar - entry_bar + 1).sum() - overlap.sum())


def _max_run(flags: np.ndarray) -> int:
    """Length of the longest run of True."""
    edges = np.diff(np.r_[0, flags.astype(np.int8), 0])
    lengths = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    return int(lengths.max()) if len(lengths) else 0


def compute_metrics(
    *,
    time: np.ndarray,
    close: np.ndarray,
    equity: np.ndarray,
    entry_bar: np.ndarray,
    exit_bar: np.ndarray,
    pnl: np.ndarray,
    returns: np.ndarray,
    commissions: np.ndarray,
    first_trading_bar: int,
    drawdown: np.ndarray | None = None,
) -> Metrics:
    """Metrics of one run. `time` is epoch seconds per bar; trade arrays hold closed trades only;
    `drawdown` (1 - equity / running peak) may be passed when the caller has it already."""
    n_bars, n_trades = len(equity), len(pnl)
    period_s = _bar_period_s(time)
    dd = 1.0 - equity / np.maximum.accumulate(equity) if drawdown is None else drawdown
    spell_durations, spell_peaks = _drawdown_spells(time, dd)
    exposure = _bars_in_trades(entry_bar, exit_bar) / n_bars * 100

    freq_days = int(period_s // DAY_S) if math.isfinite(period_s) else 0
    days = np.floor_divide(time, DAY_S).astype(np.int64)
    weekend_share = (((days + 3) % 7) >= 5).mean()
    trading_days = {7: 52, 31: 12, 365: 1}.get(freq_days, 365 if weekend_share > 2 / 7 * 0.6 else 252)
    day_returns = _period_returns(days, equity, freq_days)
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
        # Differences of logs equal logs of ratios and save a division per bar.
        equity_log = np.diff(np.log(equity))
        market_log = np.diff(np.log(close))
        beta = math.nan
        if len(equity_log) > 1:
            # cov(equity, market) / var(market); the (n - 1) divisors cancel.
            market_dev = market_log - market_log.mean()
            beta = float(np.dot(equity_log - equity_log.mean(), market_dev) / np.dot(market_dev, market_dev))

    duration_s = float(time[-1] - time[0])
    years = duration_s / DAY_S / 365.25
    ret_pct = (equity[-1] - equity[0]) / equity[0] * 100
    c0 = close[first_trading_bar]
    bh_pct = (close[-1] - c0) / c0 * 100
    max_dd = -float(np.nan_to_num(dd.max()))
    ann_return_pct = ann_return * 100
    volatility_pct = volatility * 100

    trade_durations = (time[exit_bar] - time[entry_bar]).astype(np.float64)
    wins, losses = pnl > 0, pnl < 0
    win_rate = float(wins.mean()) if n_trades else math.nan
    sum_loss_ret = abs(returns[returns < 0].sum())
    sum_loss_pnl = abs(pnl[losses].sum())
    avg_win, avg_loss = (
        (pnl[wins].mean() if wins.any() else math.nan),
        (-pnl[losses].mean() if losses.any() else math.nan),
    )

    def rounded_mean(x: np.ndarray) -> float:
        return _ceil_to_unit(float(x.mean()), period_s) if len(x) else math.nan

    def rounded_max(x: np.ndarray) -> float:
        return _ceil_to_unit(float(x.max()), period_s) if len(x) else math.nan

    return Metrics(
        start=float(time[0]),
        end=float(time[-1]),
        duration_s=duration_s,
        exposure_time_pct=exposure,
        equity_final=float(equity[-1]),
        equity_peak=float(equity.max()),
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
        avg_drawdown_pct=-float(spell_peaks.mean()) * 100 if len(spell_peaks) else math.nan,
        max_drawdown_duration_s=rounded_max(spell_durations),
        avg_drawdown_duration_s=rounded_mean(spell_durations),
        trades=n_trades,
        win_rate_pct=win_rate * 100,
        best_trade_pct=float(returns.max()) * 100 if n_trades else math.nan,
        worst_trade_pct=float(returns.min()) * 100 if n_trades else math.nan,
        avg_trade_pct=_geometric_mean(returns) * 100 if n_trades else math.nan,
        max_trade_duration_s=rounded_max(trade_durations),
        avg_trade_duration_s=rounded_mean(trade_durations),
        profit_factor=float(returns[returns > 0].sum()) / _nan_if_zero(float(sum_loss_ret)),
        expectancy_pct=float(returns.mean()) * 100 if n_trades else math.nan,
        sqn=math.sqrt(n_trades) * float(pnl.mean()) / _nan_if_zero(float(np.std(pnl, ddof=1)))
        if n_trades > 1
        else math.nan,
        kelly_criterion=win_rate - (1 - win_rate) / (avg_win / avg_loss),
        max_consecutive_wins=_max_run(wins),
        max_consecutive_losses=_max_run(losses),
        avg_winner_duration_s=rounded_mean(trade_durations[wins]),
        avg_loser_duration_s=rounded_mean(trade_durations[losses]),
        profit_factor_money=float(pnl[wins].sum()) / _nan_if_zero(float(sum_loss_pnl)),
    )
