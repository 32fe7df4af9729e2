"""The compiled per-bar and per-trade passes of the metrics (metrics.py). They have a module of their own,
imported when metrics are first computed, so that numba (~0.2 s to import) is not part of the backtesting
service's start-up (runs execute in job processes)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from shared.jit import njit


@njit(cache=True, error_model="numpy")
def scan_equity(
    time: np.ndarray, equity: np.ndarray, period_key: np.ndarray, key_offset: int, key_length: int
) -> tuple[np.ndarray, float, float, int, float, float, float]:
    """One pass over the bars for the per-bar statistics.

    Returns the index of the last bar of each calendar period, a period being a run of bars with equal
    (period_key + key_offset) // key_length; the equity peak; the largest drawdown fraction (0 when
    undefined, as any NaN makes it); and the count, summed and longest duration (s) and summed depth of the
    drawdown spells, the runs of bars below the running peak between two bars at it (the last run may be
    unfinished). A bar is at the peak exactly when its drawdown 1 - equity / peak is 0, and within a spell
    the peak is constant, so a spell's deepest drawdown is that of its lowest equity: one division per spell
    instead of one per bar, with the same result."""
    n = equity.shape[0]
    ends = np.empty(n, dtype=np.int64)
    n_ends = 0
    # Bounds of the current period: comparing against them saves a 64-bit division per bar.
    lo = ((period_key[0] + key_offset) // key_length) * key_length - key_offset
    hi = lo + key_length
    peak, max_dd, nan_seen = equity[0], 0.0, False
    n_spells, spell_s_sum, spell_s_max, spell_depth_sum = 0, 0.0, -math.inf, 0.0
    mark, lowest = -1, math.inf  # the last bar at the peak; the lowest equity after it
    for i in range(n):
        key = period_key[i]
        if key < lo or key >= hi:
            ends[n_ends] = i - 1
            n_ends += 1
            lo = ((key + key_offset) // key_length) * key_length - key_offset
            hi = lo + key_length
        e = equity[i]
        if e >= peak:
            if 1.0 - e / e == 0.0:
                if mark >= 0 and i > mark + 1:
                    depth = 1.0 - lowest / peak
                    max_dd = max(max_dd, depth)
                    duration = float(time[i] - time[mark])
                    n_spells += 1
                    spell_s_sum += duration
                    spell_s_max = max(spell_s_max, duration)
                    spell_depth_sum += depth
                mark, lowest = i, math.inf
            else:  # 0 or infinite equity: its drawdown is NaN
                nan_seen = True
            peak = e
        elif e == e:
            lowest = min(lowest, e)
        else:  # NaN equity: the peak and every later drawdown are NaN, so no bar reaches the peak again
            nan_seen, peak = True, e
    ends[n_ends] = n - 1
    if mark >= 0 and mark < n - 1:  # the unfinished spell, or a last bar below the peak
        depth = math.nan if nan_seen else 1.0 - lowest / peak
        max_dd = max(max_dd, depth)
        if n - 1 > mark + 1:
            duration = float(time[n - 1] - time[mark])
            n_spells += 1
            spell_s_sum += duration
            spell_s_max = max(spell_s_max, duration)
            spell_depth_sum += depth
    max_dd = 0.0 if nan_seen else max_dd
    return ends[: n_ends + 1].copy(), peak, max_dd, n_spells, spell_s_sum, spell_s_max, spell_depth_sum


# Reassociation lets the sums vectorise; they then differ from a sequential sum only by rounding.
@njit(cache=True, fastmath={"reassoc"})
def deviation_products(
    log_equity: np.ndarray, log_market: np.ndarray, mean_e: float, mean_m: float
) -> tuple[float, float]:
    """Sums of (de - mean_e) * (dm - mean_m) and (dm - mean_m) ** 2 over the log differences de, dm."""
    cov = var = 0.0
    for i in range(1, log_equity.shape[0]):
        dev_m = log_market[i] - log_market[i - 1] - mean_m
        cov += (log_equity[i] - log_equity[i - 1] - mean_e) * dev_m
        var += dev_m * dev_m
    return cov, var


class TradeSums(NamedTuple):
    """Counts and same-sign sums over the closed trades (plain sums and extremes are left to numpy)."""

    bars_in_trades: int  # bars covered by a trade, entry and exit bar included
    wins: int
    losses: int
    max_win_run: int
    max_loss_run: int
    pnl_win: float  # summed P&L of winners (pnl > 0)
    pnl_loss: float  # of losers (pnl < 0)
    ret_gain: float  # summed returns above 0
    ret_drop: float  # below 0
    duration_win: float
    duration_loss: float


@njit(cache=True)
def trade_sums(
    entry_bar: np.ndarray, exit_bar: np.ndarray, pnl: np.ndarray, returns: np.ndarray, durations: np.ndarray
) -> TradeSums:
    """One pass over the closed trades instead of a boolean mask and a copy per statistic. Trades follow
    one another, so only a trade entered on its predecessor's exit bar (a reversal) shares a bar with it."""
    bars = wins = losses = win_run = loss_run = max_win_run = max_loss_run = 0
    pnl_win = pnl_loss = ret_gain = ret_drop = duration_win = duration_loss = 0.0
    for k in range(pnl.shape[0]):
        bars += exit_bar[k] - entry_bar[k] + 1
        if k > 0:
            bars -= max(exit_bar[k - 1] - entry_bar[k] + 1, 0)
        if pnl[k] > 0.0:
            wins += 1
            win_run, loss_run = win_run + 1, 0
            pnl_win += pnl[k]
            duration_win += durations[k]
        elif pnl[k] < 0.0:
            losses += 1
            win_run, loss_run = 0, loss_run + 1
            pnl_loss += pnl[k]
            duration_loss += durations[k]
        else:  # a flat (or NaN) trade ends both runs
            win_run = loss_run = 0
        max_win_run, max_loss_run = max(max_win_run, win_run), max(max_loss_run, loss_run)
        if returns[k] > 0.0:
            ret_gain += returns[k]
        elif returns[k] < 0.0:
            ret_drop += returns[k]
    return TradeSums(
        bars, wins, losses, max_win_run, max_loss_run, pnl_win, pnl_loss, ret_gain, ret_drop, duration_win,
        duration_loss,
    )  # fmt: skip
