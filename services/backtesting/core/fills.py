"""The compiled fill loop: one position at a time, as backtesting.py 0.6.6 with exclusive orders.

Per bar i, in this order:

1. The order from bar i-1's signal fills: at bar i's open (NEXT_OPEN), or at bar i-1's close booked on
   bar i-1 (THIS_CLOSE, as backtesting.py's `trade_on_close`). An exit closes first; an entry then opens
   when flat. Market fills move `slippage` against the trader. The entry price carries the spread once:
   long at price * (1 + spread_fraction) + spread, short at price * (1 - spread_fraction) - spread, where
   spread is the fixed spread plus the bar's `spread` column (points * point). Exits fill at the bar price.
2. SL and TP of the open trade (including one opened at this open) are checked against bar i's range,
   SL first: when the bar reaches both, the stop is taken. A stop fills at the worse of open and stop
   (a gap fills at the open), minus slippage; a take-profit at the better of open and target.
3. Equity is marked at bar i's close. At equity <= 0 the trade is closed at the close and the run stops.
4. Bar i's signals (from bar `start` on, never on the last bar, which has no next fill) become the order:
   an exit signal, or an entry the other way, closes the trade (exclusive orders); an entry opens when
   flat. An entry in the direction already held is ignored. Both entries at once cancel each other.

Commission per side = fraction * notional + money per lot * lots; the entry side on the entry price
(after spread), the exit side on the exit price; trade P&L and return are net of both. P&L in money =
lots * price move * value_per_price (tick value / tick size; 1 in "units" mode). Trades still open at the
end stay out of the trade list (but in equity) unless `finalize` closes them at the last close.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from shared.trading.sizing import floor_to_step, raw_position_size

# Columns of the trade record array the loop returns.
T_ENTRY_BAR, T_EXIT_BAR, T_SIZE, T_ENTRY_PRICE, T_EXIT_PRICE, T_SL, T_TP = range(7)
T_PNL, T_COMMISSION, T_RETURN, T_REASON = range(7, 11)
TRADE_FIELDS = 11

# Exit reasons.
EXIT_SIGNAL, EXIT_REVERSE, EXIT_SL, EXIT_TP, EXIT_END, EXIT_BANKRUPT = range(6)
EXIT_REASON_NAMES = ("signal", "reverse", "stop_loss", "take_profit", "end", "out_of_money")


@njit(cache=True)
def _record_exit(
    trades: np.ndarray,
    n_trades: int,
    pos: float,
    entry_bar: int,
    entry_price: float,
    entry_comm: float,
    pos_sl: float,
    pos_tp: float,
    exit_price: float,
    exit_bar: int,
    reason: int,
    vpp: float,
    rate: float,
    per_lot: float,
) -> tuple[np.ndarray, float]:
    """Append the closed trade (growing the array when full); returns (trades, cash change)."""
    if n_trades == trades.shape[0]:
        bigger = np.empty((trades.shape[0] * 2, TRADE_FIELDS), dtype=np.float64)
        bigger[:n_trades] = trades
        trades = bigger
    size = abs(pos)
    exit_comm = size * exit_price * vpp * rate + per_lot * size
    gross = pos * (exit_price - entry_price) * vpp
    commission = entry_comm + exit_comm
    t = trades[n_trades]
    t[T_ENTRY_BAR] = entry_bar
    t[T_EXIT_BAR] = exit_bar
    t[T_SIZE] = pos
    t[T_ENTRY_PRICE] = entry_price
    t[T_EXIT_PRICE] = exit_price
    t[T_SL] = pos_sl
    t[T_TP] = pos_tp
    t[T_PNL] = gross - commission
    t[T_COMMISSION] = commission
    t[T_RETURN] = math.copysign(1.0, pos) * (exit_price / entry_price - 1.0) - commission / (
        size * entry_price * vpp
    )
    t[T_REASON] = reason
    return trades, gross - exit_comm


# Inlined: a call passing eight arrays costs more than the stretch of bars it skips.
@njit(cache=True, inline="always")
def _idle_until(
    i: int,
    last: int,
    start: int,
    pos: float,
    cash: float,
    entry_price: float,
    vpp: float,
    pos_sl: float,
    pos_tp: float,
    close: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    entry_long: np.ndarray,
    exit_long: np.ndarray,
    entry_short: np.ndarray,
    exit_short: np.ndarray,
    equity: np.ndarray,
) -> int:
    """The first bar from `i` (before `last`) the full loop must process; marks the idle bars before it.

    With no pending order a bar is idle when flat without an entry signal, or holding a position whose
    SL/TP the bar does not reach, with no exit or opposite-entry signal and equity above zero. The
    stretches between signals are most bars, and this tight loop does only what they need."""
    j = i
    if pos == 0.0:
        if cash <= 0.0:
            return i
        while j < last and (j < start or not (entry_long[j] or entry_short[j])):
            equity[j] = cash
            j += 1
        return j
    exits, flips = (exit_long, entry_short) if pos > 0.0 else (exit_short, entry_long)
    while j < last and not (j >= start and (exits[j] or flips[j])):
        # NaN levels never compare true, so a trade without SL/TP never stops here
        if pos > 0.0:
            if low[j] <= pos_sl or high[j] >= pos_tp:
                break
        elif high[j] >= pos_sl or low[j] <= pos_tp:
            break
        marked = cash + pos * (close[j] - entry_price) * vpp
        if marked <= 0.0:
            break
        equity[j] = marked
        j += 1
    return j


@njit(cache=True)
def simulate(
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    spread: np.ndarray,
    entry_long: np.ndarray,
    exit_long: np.ndarray,
    entry_short: np.ndarray,
    exit_short: np.ndarray,
    sl: np.ndarray,
    tp: np.ndarray,
    start: int,
    trade_on_close: bool,
    finalize: bool,
    cash: float,
    leverage: float,
    spread_fraction: float,
    commission_fraction: float,
    commission_per_lot: float,
    slippage: float,
    value_per_price: float,
    sizing_mode: int,
    sizing_value: float,
    volume_step: float,
    volume_min: float,
    volume_max: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Fill signals bar by bar; returns (equity per bar, trade records [n_trades, TRADE_FIELDS]).

    `spread` is in price units per bar (or one value for all); `sl`/`tp` per signal bar; empty = none."""
    n = close.shape[0]
    equity = np.empty(n, dtype=np.float64)
    trades = np.empty((64, TRADE_FIELDS), dtype=np.float64)
    n_trades = 0
    has_spread, has_sl, has_tp = spread.shape[0] > 0, sl.shape[0] > 0, tp.shape[0] > 0
    vpp, rate, per_lot = value_per_price, commission_fraction, commission_per_lot

    pos = 0.0  # signed lots; 0 = flat
    entry_price = entry_comm = 0.0
    entry_bar = 0
    pos_sl = pos_tp = math.nan
    pend_close, pend_reason, pend_dir = False, EXIT_SIGNAL, 0
    pend_sl = pend_tp = math.nan
    i = 0
    while i < n:
        # 0. skip bars where nothing can happen (no order, no signal that matters, no SL/TP touch)
        if not pend_close and pend_dir == 0:
            j = _idle_until(
                i, n - 1, start, pos, cash, entry_price, vpp, pos_sl, pos_tp, close, high, low,
                entry_long, exit_long, entry_short, exit_short, equity,
            )  # fmt: skip
            if j > i:
                i = j
                continue

        # 1. bar i-1's order
        if pend_close or pend_dir != 0:
            bar = i - 1 if trade_on_close else i
            px = close[i - 1] if trade_on_close else open_[i]
            if pend_close and pos != 0.0:
                trades, change = _record_exit(
                    trades,
                    n_trades,
                    pos,
                    entry_bar,
                    entry_price,
                    entry_comm,
                    pos_sl,
                    pos_tp,
                    px - math.copysign(slippage, pos),
                    bar,
                    pend_reason,
                    vpp,
                    rate,
                    per_lot,
                )
                cash += change
                n_trades += 1
                pos = 0.0
            if pend_dir != 0 and pos == 0.0:
                side = float(pend_dir)
                fill = px + side * slippage
                adj = fill * (1.0 + side * spread_fraction)
                if has_spread:
                    adj += side * spread[bar if spread.shape[0] > 1 else 0]
                cost_per_lot = adj * vpp + fill * vpp * rate + per_lot
                raw = raw_position_size(
                    sizing_mode, sizing_value, cash, adj, pend_sl, vpp, leverage, cost_per_lot
                )
                size = floor_to_step(raw, volume_step, volume_min, volume_max)
                # What the margin cannot carry is refused, as backtesting.py's broker cancels such orders.
                if size > 0.0 and size * cost_per_lot <= max(cash, 0.0) * leverage:
                    entry_comm = size * adj * vpp * rate + per_lot * size
                    cash -= entry_comm
                    pos, entry_price, entry_bar = side * size, adj, bar
                    pos_sl, pos_tp = pend_sl, pend_tp
            pend_close, pend_dir = False, 0

        # 2. SL before TP on this bar's range (NaN levels never compare true)
        if pos != 0.0:
            hit, e_px, reason = False, 0.0, EXIT_SL
            if pos > 0.0:
                if low[i] <= pos_sl:
                    hit, e_px = True, min(open_[i], pos_sl) - slippage
                elif high[i] >= pos_tp:
                    hit, e_px, reason = True, max(open_[i], pos_tp), EXIT_TP
            elif high[i] >= pos_sl:
                hit, e_px = True, max(open_[i], pos_sl) + slippage
            elif low[i] <= pos_tp:
                hit, e_px, reason = True, min(open_[i], pos_tp), EXIT_TP
            if hit:
                trades, change = _record_exit(
                    trades,
                    n_trades,
                    pos,
                    entry_bar,
                    entry_price,
                    entry_comm,
                    pos_sl,
                    pos_tp,
                    e_px,
                    i,
                    reason,
                    vpp,
                    rate,
                    per_lot,
                )
                cash += change
                n_trades += 1
                pos = 0.0

        # 3. mark to market
        equity[i] = cash + pos * (close[i] - entry_price) * vpp
        if equity[i] <= 0.0:
            if pos != 0.0:
                trades, change = _record_exit(
                    trades,
                    n_trades,
                    pos,
                    entry_bar,
                    entry_price,
                    entry_comm,
                    pos_sl,
                    pos_tp,
                    close[i],
                    i,
                    EXIT_BANKRUPT,
                    vpp,
                    rate,
                    per_lot,
                )
                n_trades += 1
                pos = 0.0
            equity[i:] = 0.0
            return equity, trades[:n_trades].copy()

        # 4. this bar's signals become the next order
        if i >= start and i < n - 1:
            want = 0
            if entry_long[i] and not entry_short[i]:
                want = 1
            elif entry_short[i] and not entry_long[i]:
                want = -1
            if pos > 0.0 and (exit_long[i] or want < 0):
                pend_close, pend_reason = True, EXIT_REVERSE if want < 0 else EXIT_SIGNAL
            elif pos < 0.0 and (exit_short[i] or want > 0):
                pend_close, pend_reason = True, EXIT_REVERSE if want > 0 else EXIT_SIGNAL
            held = 0
            if not pend_close and pos != 0.0:
                held = 1 if pos > 0.0 else -1
            if want != 0 and want != held:
                pend_dir = want
                pend_sl = sl[i] if has_sl else math.nan
                pend_tp = tp[i] if has_tp else math.nan
        i += 1

    if finalize and pos != 0.0:
        trades, change = _record_exit(
            trades,
            n_trades,
            pos,
            entry_bar,
            entry_price,
            entry_comm,
            pos_sl,
            pos_tp,
            close[n - 1],
            n - 1,
            EXIT_END,
            vpp,
            rate,
            per_lot,
        )
        n_trades += 1
        equity[n - 1] = cash + change
    return equity, trades[:n_trades].copy()
