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

from shared.jit import njit
from shared.trading.sizing_kernels import floor_to_step, raw_position_size

# Columns of the trade record array the loop returns.
T_ENTRY_BAR, T_EXIT_BAR, T_SIZE, T_ENTRY_PRICE, T_EXIT_PRICE, T_SL, T_TP = range(7)
T_PNL, T_COMMISSION, T_RETURN, T_REASON = range(7, 11)
TRADE_FIELDS = 11

# Entry signals skipped, by cause: the index into the `skipped` counts the loop returns. Warm-up counts
# entry signals before `start`; the others count entries whose order could not open.
SKIP_WARMUP, SKIP_BELOW_MIN, SKIP_MARGIN, SKIP_NO_STOP = range(4)
SKIP_INVALID_STOPS = 4  # the tick loop only: stops too near the price, as the broker refuses them
SKIP_KINDS = 5

# Exit reasons.
EXIT_SIGNAL, EXIT_REVERSE, EXIT_SL, EXIT_TP, EXIT_END, EXIT_BANKRUPT = range(6)
EXIT_STOP_OUT = 6  # the tick loop only: the broker's stop-out
EXIT_REASON_NAMES = ("signal", "reverse", "stop_loss", "take_profit", "end", "out_of_money", "stop_out")


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
) -> float:
    """Write the closed trade to row `n_trades`; returns the cash change."""
    size = abs(pos)
    exit_comm = size * exit_price * vpp * rate + per_lot * size
    gross = pos * (exit_price - entry_price) * vpp
    commission = entry_comm + exit_comm
    trades[n_trades, T_ENTRY_BAR] = entry_bar
    trades[n_trades, T_EXIT_BAR] = exit_bar
    trades[n_trades, T_SIZE] = pos
    trades[n_trades, T_ENTRY_PRICE] = entry_price
    trades[n_trades, T_EXIT_PRICE] = exit_price
    trades[n_trades, T_SL] = pos_sl
    trades[n_trades, T_TP] = pos_tp
    trades[n_trades, T_PNL] = gross - commission
    trades[n_trades, T_COMMISSION] = commission
    trades[n_trades, T_RETURN] = math.copysign(1.0, pos) * (exit_price / entry_price - 1.0) - commission / (
        size * entry_price * vpp
    )
    trades[n_trades, T_REASON] = reason
    return gross - exit_comm


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
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill signals bar by bar; returns (equity per bar, trade records [n_trades, TRADE_FIELDS], skipped
    entry counts [SKIP_KINDS]).

    `spread` is in price units per bar (or one value for all); `sl`/`tp` per signal bar; empty = none."""
    n = close.shape[0]
    last = n - 1  # the last bar's signals are ignored: no bar is left to fill them
    equity = np.empty(n, dtype=np.float64)
    # Each trade opens on its own entry signal, so their count bounds the trades; an array that never grows
    # keeps the loop free of the reference counting a reassigned array costs on every bar.
    entries = np.count_nonzero(entry_long[start:last]) + np.count_nonzero(entry_short[start:last])
    trades = np.empty((entries + 1, TRADE_FIELDS), dtype=np.float64)
    skipped = np.zeros(SKIP_KINDS, dtype=np.int64)
    warm = min(start, n)
    skipped[SKIP_WARMUP] = np.count_nonzero(entry_long[:warm]) + np.count_nonzero(entry_short[:warm])
    n_trades = 0
    has_spread, has_sl, has_tp = spread.shape[0] > 0, sl.shape[0] > 0, tp.shape[0] > 0
    vpp, rate, per_lot = value_per_price, commission_fraction, commission_per_lot

    pos = 0.0  # signed lots; 0 = flat
    entry_price = entry_comm = 0.0
    entry_bar = 0
    pos_sl = pos_tp = math.nan
    has_levels = False  # the open trade has an SL or a TP
    pending = pend_close = False
    pend_reason, pend_dir = EXIT_SIGNAL, 0
    pend_sl = pend_tp = math.nan
    i = 0
    while i < n:
        # 0. Run through the bars where nothing can happen (no order to fill, no signal that counts, no SL/TP
        # reached, equity above zero): most bars, so they get loops that do only what those bars need.
        if not pending:
            if pos == 0.0:
                if cash > 0.0:
                    while i < last and (i < start or not (entry_long[i] or entry_short[i])):
                        equity[i] = cash
                        i += 1
            elif pos > 0.0:
                while i < last and (i < start or not (exit_long[i] or entry_short[i])):
                    if has_levels and (low[i] <= pos_sl or high[i] >= pos_tp):
                        break
                    marked = cash + pos * (close[i] - entry_price) * vpp
                    if marked <= 0.0:
                        break
                    equity[i] = marked
                    i += 1
            else:
                while i < last and (i < start or not (exit_short[i] or entry_long[i])):
                    if has_levels and (high[i] >= pos_sl or low[i] <= pos_tp):
                        break
                    marked = cash + pos * (close[i] - entry_price) * vpp
                    if marked <= 0.0:
                        break
                    equity[i] = marked
                    i += 1

        # 1. bar i-1's order
        if pending:
            bar = i - 1 if trade_on_close else i
            px = close[i - 1] if trade_on_close else open_[i]
            if pend_close and pos != 0.0:
                cash += _record_exit(
                    trades, n_trades, pos, entry_bar, entry_price, entry_comm, pos_sl, pos_tp,
                    px - math.copysign(slippage, pos), bar, pend_reason, vpp, rate, per_lot,
                )  # fmt: skip
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
                    has_levels = not (math.isnan(pos_sl) and math.isnan(pos_tp))
                elif size > 0.0:
                    skipped[SKIP_MARGIN] += 1
                elif sizing_mode == 2 and (math.isnan(pend_sl) or pend_sl == adj):
                    skipped[SKIP_NO_STOP] += 1
                else:
                    skipped[SKIP_BELOW_MIN] += 1
            pending = pend_close = False
            pend_dir = 0

        # 2. SL before TP on this bar's range (NaN levels never compare true)
        if has_levels and pos != 0.0:
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
                cash += _record_exit(
                    trades, n_trades, pos, entry_bar, entry_price, entry_comm, pos_sl, pos_tp,
                    e_px, i, reason, vpp, rate, per_lot,
                )  # fmt: skip
                n_trades += 1
                pos = 0.0

        # 3. mark to market
        marked = cash if pos == 0.0 else cash + pos * (close[i] - entry_price) * vpp
        equity[i] = marked
        if marked <= 0.0:
            if pos != 0.0:
                _record_exit(
                    trades, n_trades, pos, entry_bar, entry_price, entry_comm, pos_sl, pos_tp,
                    close[i], i, EXIT_BANKRUPT, vpp, rate, per_lot,
                )  # fmt: skip
                n_trades += 1
            equity[i:] = 0.0
            return equity, trades[:n_trades].copy(), skipped

        # 4. this bar's signals become the next order
        if i >= start and i < last:
            go_long, go_short = entry_long[i], entry_short[i]
            if pos == 0.0:
                if go_long != go_short:  # both at once cancel each other
                    pend_dir = 1 if go_long else -1
            else:
                want = 0
                if go_long and not go_short:
                    want = 1
                elif go_short and not go_long:
                    want = -1
                held = 1 if pos > 0.0 else -1
                if want == -held:
                    pend_close, pend_reason = True, EXIT_REVERSE
                elif exit_long[i] if held > 0 else exit_short[i]:
                    pend_close, pend_reason = True, EXIT_SIGNAL
                if want != 0 and (pend_close or want != held):
                    pend_dir = want
            if pend_dir != 0:
                pend_sl = sl[i] if has_sl else math.nan
                pend_tp = tp[i] if has_tp else math.nan
            pending = pend_close or pend_dir != 0
        i += 1

    if finalize and pos != 0.0:
        change = _record_exit(
            trades, n_trades, pos, entry_bar, entry_price, entry_comm, pos_sl, pos_tp,
            close[last], last, EXIT_END, vpp, rate, per_lot,
        )  # fmt: skip
        n_trades += 1
        equity[last] = cash + change
    return equity, trades[:n_trades].copy(), skipped
