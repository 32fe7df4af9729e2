"""The compiled tick loop: the paper broker's fill, SL/TP and stop-out rules over a stream of ticks.

It is a twin of the paper broker (services/mt5/core/simulated: broker_execution, broker_triggers,
broker_accounting, broker_stopout), tested equal to it on generated tick streams
(tests/backtesting/unit/test_tick_twin.py). One position at a time, as a live instance holds it:

1. Bar i's signals (the decision rule of fills.py and the strategy service's `decide`) execute at the
   first tick at or after bar i's close: the closes first, at that tick's bid (long) or ask (short), then
   the entry at its ask (buy) or bid (sell). The ticks up to and including that one are checked for SL,
   TP and stop-out before the order, as the broker processes the feed before the order that follows it.
2. The entry's stops are the signal's levels, else `sl_distance`/`tp_distance` from the fill price, rounded
   to the symbol's digits (half-even), as the risk manager sets them. Stops nearer than max(stops_level, 1)
   points to the closing price refuse the entry (MT5's INVALID_STOPS); so does negative free margin.
3. From the next tick on, a long closes at the bid of the first tick whose bid reaches its SL (<=) or TP
   (>=), a short at the ask of the first tick whose ask reaches them; at that tick's price, so a gap fills
   at the gapped price. One tick can reach only one of the two.
4. Money as the broker books it: profit (close - open) x volume x contract in the profit currency, divided
   by the tick's bid when it converts through the symbol itself (USDJPY in a USD account); commission per
   lot on every deal; each booking rounded to cents. Margin is fixed at the open price (volume x contract,
   times the price when the margin currency is the base of a pair quoted in the account's currency), over
   the leverage. The paper broker charges no swap.
5. Stop-out: when the margin level (equity / margin x 100, rounded to 0.01) falls to or below
   `stop_out_level`, the position closes at that tick.

Equity per bar is marked at the last tick before the bar's close. Times stay tick indices; the caller
turns them into milliseconds.
"""

from __future__ import annotations

import math

import numpy as np

from services.backtesting.core.fills import (
    EXIT_END,
    EXIT_REVERSE,
    EXIT_SIGNAL,
    EXIT_SL,
    EXIT_STOP_OUT,
    EXIT_TP,
    SKIP_BELOW_MIN,
    SKIP_INVALID_STOPS,
    SKIP_KINDS,
    SKIP_MARGIN,
    SKIP_NO_STOP,
    SKIP_WARMUP,
    T_COMMISSION,
    T_ENTRY_BAR,
    T_ENTRY_PRICE,
    T_EXIT_BAR,
    T_EXIT_PRICE,
    T_PNL,
    T_REASON,
    T_RETURN,
    T_SIZE,
    T_SL,
    T_TP,
    TRADE_FIELDS,
)
from shared.jit import njit
from shared.trading.sizing_kernels import floor_to_step, raw_position_size

# Extra columns of the tick loop's trade records: the ticks the trade opened and closed at.
T_ENTRY_TICK, T_EXIT_TICK = TRADE_FIELDS, TRADE_FIELDS + 1
TICK_TRADE_FIELDS = TRADE_FIELDS + 2

# Account facts, in this order in the `account` array the loop takes (see TickAccount.as_array).
(
    A_CONTRACT,
    A_PROFIT_VIA_BID,
    A_MARGIN_USES_PRICE,
    A_LEVERAGE,
    A_COMMISSION_PER_LOT,
    A_STOP_OUT_LEVEL,
    A_POINTS_PER_PRICE,
    A_STOPS_LEVEL,
) = range(8)
ACCOUNT_FIELDS = 8


@njit(cache=True)
def money(amount: float) -> float:
    """`amount` rounded to cents, half-even, as the broker's `money` rounds its decimal value: the float is
    first rounded to a millionth of a cent, which gives back the decimal the broker computed exactly (1.13
    lots x 3.5 is 3.955, not the float 3.95499...), then rounded to the cent."""
    return np.round(np.round(amount * 100.0, 6)) / 100.0 + 0.0


@njit(cache=True)
def round_price(price: float, points_per_price: float) -> float:
    """`price` on the symbol's grid, half-even: a whole number of points over a power of ten, divided once
    (the float nearest the decimal, as `SymbolSpec.round_price` gives)."""
    return np.round(price * points_per_price) / points_per_price


@njit(cache=True)
def profit_at(
    side: float, volume: float, open_price: float, close: float, bid: float, account: np.ndarray
) -> float:
    """Unrounded profit in account money of `volume` lots from `open_price` to `close`, at a tick's `bid`."""
    # The broker's amount is an exact decimal (price digits + volume digits); 8 decimals restore it.
    amount = np.round(side * (close - open_price) * volume * account[A_CONTRACT], 8)
    if account[A_PROFIT_VIA_BID] != 0.0:
        amount *= 1.0 / bid  # as the broker: the amount times the rate, the rate being 1 / bid
    return amount


@njit(cache=True)
def margin_of(volume: float, price: float, account: np.ndarray) -> float:
    units = np.round(volume * account[A_CONTRACT], 8)  # the broker's exact decimal units
    if account[A_MARGIN_USES_PRICE] != 0.0:
        units *= price
    return money(units / account[A_LEVERAGE])


@njit(cache=True)
def margin_level(balance: float, profit: float, margin: float) -> float:
    """The account's margin level in percent, as `account_snapshot` reports it."""
    equity = money(balance + money(profit))
    return np.round(equity / margin * 100.0 * 100.0) / 100.0


@njit(cache=True)
def _stop_out_threshold(
    side: float, volume: float, open_price: float, balance: float, margin: float, account: np.ndarray
) -> float:
    """The closing price at which the margin level nears the stop-out level, a little early (the exact
    level is checked there): the loop compares one price per tick instead of valuing the account."""
    level = account[A_STOP_OUT_LEVEL]
    if level <= 0.0:
        return -math.inf if side > 0.0 else math.inf
    # profit <= level% of margin - balance, with a cent and a basis point of slack for the roundings
    limit = level / 100.0 * margin * 1.0001 + 0.02 - balance
    units = volume * account[A_CONTRACT]
    if account[A_PROFIT_VIA_BID] == 0.0:
        return open_price + side * limit / units
    # side * (c - o) * units / c <= limit, with c the bid: monotonic in c.
    if side > 0.0:
        denom = 1.0 - limit / units
        return open_price / denom if denom > 0.0 else math.inf
    denom = 1.0 + limit / units
    return open_price / denom if denom > 0.0 else -math.inf


@njit(cache=True)
def simulate_ticks(
    bid: np.ndarray,
    ask: np.ndarray,
    fill_tick: np.ndarray,
    entry_long: np.ndarray,
    exit_long: np.ndarray,
    entry_short: np.ndarray,
    exit_short: np.ndarray,
    sl: np.ndarray,
    tp: np.ndarray,
    sl_distance: float,
    tp_distance: float,
    start: int,
    finalize: bool,
    balance: float,
    account: np.ndarray,
    sizing_mode: int,
    sizing_value: float,
    volume_step: float,
    volume_min: float,
    volume_max: float,
    value_per_price: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fill bar signals on ticks; returns (equity per bar, trade records [n, TICK_TRADE_FIELDS], skipped
    entry counts [SKIP_KINDS]). `fill_tick[i]` is the index of the first tick at or after bar i's close
    (len(bid) when there is none); `sl`/`tp` are per signal bar (empty = none), NaN distances = none."""
    n_bars = fill_tick.shape[0]
    n_ticks = bid.shape[0]
    equity = np.empty(n_bars, dtype=np.float64)
    entries = np.count_nonzero(entry_long) + np.count_nonzero(entry_short)
    trades = np.empty((entries + 2, TICK_TRADE_FIELDS), dtype=np.float64)
    skipped = np.zeros(SKIP_KINDS, dtype=np.int64)
    warm = min(start, n_bars)
    skipped[SKIP_WARMUP] = np.count_nonzero(entry_long[:warm]) + np.count_nonzero(entry_short[:warm])
    has_sl, has_tp = sl.shape[0] > 0, tp.shape[0] > 0
    per_lot = account[A_COMMISSION_PER_LOT]
    ppp = account[A_POINTS_PER_PRICE]
    min_stop = max(account[A_STOPS_LEVEL], 1.0)
    n_trades = 0

    side = 0.0  # +1 long, -1 short, 0 flat
    volume = open_price = pos_sl = pos_tp = margin = entry_comm = 0.0
    entry_tick = entry_bar = 0
    lo_stop, hi_stop, so_px = -math.inf, math.inf, 0.0  # the closing-price band no trigger is in
    reason = EXIT_SL
    cur = 0  # the next tick not yet checked for triggers
    for i in range(n_bars):
        f = min(fill_tick[i], n_ticks)
        acting = i >= start and f < n_ticks
        # 1. SL/TP/stop-out over the ticks before bar i's fill tick, and at it when an order follows.
        end = f + 1 if acting else f
        while side != 0.0 and cur < end:
            hit = -1
            if side > 0.0:
                for k in range(cur, end):
                    b = bid[k]
                    if b <= lo_stop or b >= hi_stop:
                        hit = k
                        break
            else:
                for k in range(cur, end):
                    a = ask[k]
                    if a <= lo_stop or a >= hi_stop:
                        hit = k
                        break
            if hit < 0:
                cur = end
                break
            px = bid[hit] if side > 0.0 else ask[hit]
            reason = -1
            if side > 0.0:
                if px <= pos_sl:
                    reason = EXIT_SL
                elif px >= pos_tp:
                    reason = EXIT_TP
            elif px >= pos_sl:
                reason = EXIT_SL
            elif px <= pos_tp:
                reason = EXIT_TP
            if reason < 0:  # near the stop-out line: value the account exactly
                profit = profit_at(side, volume, open_price, px, bid[hit], account)
                if margin_level(balance, profit, margin) <= account[A_STOP_OUT_LEVEL]:
                    reason = EXIT_STOP_OUT
            cur = hit + 1
            if reason >= 0:
                balance = _close(
                    trades, n_trades, side, volume, open_price, pos_sl, pos_tp, entry_comm, entry_tick,
                    entry_bar, px, bid[hit], hit, i, reason, balance, account,
                )  # fmt: skip
                n_trades += 1
                side = 0.0
        if side == 0.0:
            cur = max(cur, end)

        # 2. equity at the last tick before the close
        if side == 0.0 or f == 0:
            equity[i] = balance
        else:
            k = f - 1
            px = bid[k] if side > 0.0 else ask[k]
            equity[i] = balance + profit_at(side, volume, open_price, px, bid[k], account)

        # 3. bar i's signals become the order, executed at tick f
        if not acting:
            continue
        go_long, go_short = entry_long[i], entry_short[i]
        want = 0
        if go_long and not go_short:
            want = 1
        elif go_short and not go_long:
            want = -1
        close_reason = -1
        if side > 0.0 and (exit_long[i] or want < 0):
            close_reason = EXIT_REVERSE if want < 0 else EXIT_SIGNAL
        elif side < 0.0 and (exit_short[i] or want > 0):
            close_reason = EXIT_REVERSE if want > 0 else EXIT_SIGNAL
        bar = min(i + 1, n_bars - 1)  # the fill tick is the next bar's first
        if close_reason >= 0:
            px = bid[f] if side > 0.0 else ask[f]
            balance = _close(
                trades, n_trades, side, volume, open_price, pos_sl, pos_tp, entry_comm, entry_tick,
                entry_bar, px, bid[f], f, bar, close_reason, balance, account,
            )  # fmt: skip
            n_trades += 1
            side = 0.0
        if want == 0 or side != 0.0:
            continue
        s = float(want)
        price = ask[f] if want > 0 else bid[f]
        reference = bid[f] if want > 0 else ask[f]  # the closing price the stops are measured from
        level_sl = sl[i] if has_sl else math.nan
        level_tp = tp[i] if has_tp else math.nan
        if math.isnan(level_sl) and not math.isnan(sl_distance):
            level_sl = price - s * sl_distance
        if math.isnan(level_tp) and not math.isnan(tp_distance):
            level_tp = price + s * tp_distance
        if not math.isnan(level_sl):
            level_sl = round_price(level_sl, ppp)
        if not math.isnan(level_tp):
            level_tp = round_price(level_tp, ppp)
        # Sized as the strategy service sizes a live entry (shared.trading.sizing.position_size), with the
        # tick value at the current rate when the profit converts through this symbol's bid.
        vpp = account[A_CONTRACT] / bid[f] if account[A_PROFIT_VIA_BID] != 0.0 else value_per_price
        raw = raw_position_size(sizing_mode, sizing_value, balance, price, level_sl, vpp, 1.0, price * vpp)
        size = floor_to_step(raw, volume_step, volume_min, volume_max)
        if size <= 0.0:
            if sizing_mode == 2 and math.isnan(level_sl):
                skipped[SKIP_NO_STOP] += 1
            else:
                skipped[SKIP_BELOW_MIN] += 1
            continue
        if (not math.isnan(level_sl) and np.round(s * (reference - level_sl) * ppp) < min_stop) or (
            not math.isnan(level_tp) and np.round(s * (level_tp - reference) * ppp) < min_stop
        ):
            skipped[SKIP_INVALID_STOPS] += 1
            continue
        comm = -money(size * per_lot)
        new_margin = margin_of(size, price, account)
        after = money(balance + comm)
        # free margin after the open: equity (the new position valued at its own closing price) - margin
        opened = money(profit_at(s, size, price, reference, bid[f], account))
        if money(after + opened) - new_margin < 0.0:
            skipped[SKIP_MARGIN] += 1
            continue
        balance = after
        side, volume, open_price, margin, entry_comm = s, size, price, new_margin, comm
        pos_sl = level_sl if not math.isnan(level_sl) else (-math.inf if s > 0.0 else math.inf)
        pos_tp = level_tp if not math.isnan(level_tp) else (math.inf if s > 0.0 else -math.inf)
        so_px = _stop_out_threshold(s, volume, open_price, balance, margin, account)
        if s > 0.0:
            lo_stop, hi_stop = max(pos_sl, so_px), pos_tp
        else:
            lo_stop, hi_stop = pos_tp, min(pos_sl, so_px)
        entry_tick, entry_bar = f, bar
        cur = f + 1

    if finalize and side != 0.0 and n_ticks > 0:
        k = n_ticks - 1
        px = bid[k] if side > 0.0 else ask[k]
        balance = _close(
            trades, n_trades, side, volume, open_price, pos_sl, pos_tp, entry_comm, entry_tick,
            entry_bar, px, bid[k], k, n_bars - 1, EXIT_END, balance, account,
        )  # fmt: skip
        n_trades += 1
        equity[n_bars - 1] = balance
    return equity, trades[:n_trades].copy(), skipped


@njit(cache=True)
def _close(
    trades: np.ndarray,
    n: int,
    side: float,
    volume: float,
    open_price: float,
    pos_sl: float,
    pos_tp: float,
    entry_comm: float,
    entry_tick: int,
    entry_bar: int,
    price: float,
    bid: float,
    tick: int,
    bar: int,
    reason: int,
    balance: float,
    account: np.ndarray,
) -> float:
    """Book the close of the position at `price` (tick `tick`) into row `n`; returns the new balance."""
    profit = money(profit_at(side, volume, open_price, price, bid, account))
    comm = -money(volume * account[A_COMMISSION_PER_LOT])
    commission = -(entry_comm + comm)
    trades[n, T_ENTRY_BAR] = entry_bar
    trades[n, T_EXIT_BAR] = bar
    trades[n, T_SIZE] = side * volume
    trades[n, T_ENTRY_PRICE] = open_price
    trades[n, T_EXIT_PRICE] = price
    trades[n, T_SL] = pos_sl if math.isfinite(pos_sl) else math.nan
    trades[n, T_TP] = pos_tp if math.isfinite(pos_tp) else math.nan
    trades[n, T_PNL] = profit - commission
    trades[n, T_COMMISSION] = commission
    notional = volume * open_price * account[A_CONTRACT]
    if account[A_PROFIT_VIA_BID] != 0.0:
        notional /= bid
    trades[n, T_RETURN] = side * (price / open_price - 1.0) - commission / notional
    trades[n, T_REASON] = reason
    trades[n, T_ENTRY_TICK] = entry_tick
    trades[n, T_EXIT_TICK] = tick
    return money(balance + profit + comm)
