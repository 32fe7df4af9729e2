"""The compiled shared-account walk of a portfolio: every leg's bars in one merged timeline, one account.

Each leg is a strategy on one symbol's bars with the single engine's rules (fills.py: fills at the next
open or this close, spread once at entry, SL before TP, exclusive orders, sizing in volume steps). What
the legs share is the account, as the paper broker keeps it (services/mt5/core/simulated):

- Events are the legs' bars in the order of their close times (ties: leg order); an event runs the leg's
  fill, SL/TP, mark and signal steps of fills.py for that bar.
- Money is in the account currency: a leg's profit (in its symbol's profit currency) is multiplied by the
  leg's conversion rate at that bar (`to_account`, 1.0 when the currencies agree; e.g. 1 / USDJPY close
  for a USDJPY position in a USD account, the broker's "divide by the bid").
- Margin of a position, fixed at its open: lots x `margin_notional` / leverage, where the notional per lot
  is `margin_per_lot[bar]` times the fill price (own pair, CFD, "units") or not (margin currency = base,
  converted). An entry opens when lots x (notional + commission per lot) fits the free margin x leverage,
  the engine's rule with the shared free margin in place of cash, so one leg alone is the engine exactly.
- After every mark, equity = cash + every leg's unrealised profit at its latest close. At equity <= 0 the
  account is out of money: positions close at their latest close and the run stops (the engine's rule).
  Else, while the margin level (equity / margin x 100) is at or below `stop_out_level`, the most losing
  position (lowest profit, then the lowest leg) closes at its latest close, reason stop-out.
"""

from __future__ import annotations

import math

import numpy as np

from services.backtesting.core import fills
from shared.jit import njit
from shared.trading.sizing_kernels import floor_to_step, raw_position_size

# The trade record: fills.py's columns, then the leg.
T_LEG = fills.TRADE_FIELDS
TRADE_FIELDS = fills.TRADE_FIELDS + 1
EXIT_STOP_OUT = len(fills.EXIT_REASON_NAMES)
EXIT_REASON_NAMES = (*fills.EXIT_REASON_NAMES, "stop_out")

_SIGNAL, _REVERSE, _SL, _TP = fills.EXIT_SIGNAL, fills.EXIT_REVERSE, fills.EXIT_SL, fills.EXIT_TP
_END, _BANKRUPT = fills.EXIT_END, fills.EXIT_BANKRUPT


@njit(cache=True)
def _close(
    trades: np.ndarray,
    n_trades: int,
    leg: int,
    pos: float,
    entry_bar: int,
    entry_price: float,
    entry_comm: float,
    pos_sl: float,
    pos_tp: float,
    exit_price: float,
    exit_bar: int,
    reason: int,
    vppa: float,
    rate: float,
    per_lot: float,
) -> float:
    """Write the closed trade (money in the account currency, `vppa` per 1.0 of price per lot) to row
    `n_trades`; returns the cash change. The arithmetic is fills._record_exit's, in the same order."""
    size = abs(pos)
    exit_comm = size * exit_price * vppa * rate + per_lot * size
    gross = pos * (exit_price - entry_price) * vppa
    commission = entry_comm + exit_comm
    trades[n_trades, fills.T_ENTRY_BAR] = entry_bar
    trades[n_trades, fills.T_EXIT_BAR] = exit_bar
    trades[n_trades, fills.T_SIZE] = pos
    trades[n_trades, fills.T_ENTRY_PRICE] = entry_price
    trades[n_trades, fills.T_EXIT_PRICE] = exit_price
    trades[n_trades, fills.T_SL] = pos_sl
    trades[n_trades, fills.T_TP] = pos_tp
    trades[n_trades, fills.T_PNL] = gross - commission
    trades[n_trades, fills.T_COMMISSION] = commission
    trades[n_trades, fills.T_RETURN] = math.copysign(1.0, pos) * (
        exit_price / entry_price - 1.0
    ) - commission / (size * entry_price * vppa)
    trades[n_trades, fills.T_REASON] = reason
    trades[n_trades, T_LEG] = leg
    return gross - exit_comm


@njit(cache=True)
def walk(
    ev_leg: np.ndarray,
    ev_bar: np.ndarray,
    offset: np.ndarray,
    length: np.ndarray,
    start: np.ndarray,
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
    to_account: np.ndarray,
    margin_per_lot: np.ndarray,
    margin_on_price: np.ndarray,
    value_per_price: np.ndarray,
    slippage: np.ndarray,
    sizing_mode: np.ndarray,
    sizing_value: np.ndarray,
    volume_step: np.ndarray,
    volume_min: np.ndarray,
    volume_max: np.ndarray,
    trade_on_close: bool,
    finalize: bool,
    cash: float,
    leverage: float,
    stop_out_level: float,
    spread_fraction: float,
    commission_fraction: float,
    commission_per_lot: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Walk the merged timeline (`ev_leg`, `ev_bar`: the leg and its bar of each event).

    Per-bar arrays hold every leg's bars back to back (leg k at `offset[k]`, `length[k]` bars; `spread` in
    price units, `sl`/`tp` NaN for none); per-leg arrays hold one value per leg. Returns (account equity per
    event, each leg's P&L per bar in account money, trade records [n, TRADE_FIELDS], skipped entry counts
    per leg [legs, fills.SKIP_KINDS])."""
    n_legs = offset.shape[0]
    n_events = ev_leg.shape[0]
    equity = np.empty(n_events, dtype=np.float64)
    leg_pnl = np.empty(close.shape[0], dtype=np.float64)
    skipped = np.zeros((n_legs, fills.SKIP_KINDS), dtype=np.int64)
    entries = 0
    for k in range(n_legs):
        a, last = offset[k], offset[k] + length[k] - 1
        first = a + start[k]
        entries += int(np.count_nonzero(entry_long[first:last]) + np.count_nonzero(entry_short[first:last]))
        warm = a + min(start[k], length[k])
        skipped[k, fills.SKIP_WARMUP] = np.count_nonzero(entry_long[a:warm]) + np.count_nonzero(
            entry_short[a:warm]
        )
    trades = np.empty((entries + n_legs, TRADE_FIELDS), dtype=np.float64)
    n_trades = 0
    rate, per_lot = commission_fraction, commission_per_lot

    pos = np.zeros(n_legs)
    entry_price = np.zeros(n_legs)
    entry_comm = np.zeros(n_legs)
    entry_bar = np.zeros(n_legs, dtype=np.int64)
    pos_sl = np.full(n_legs, np.nan)
    pos_tp = np.full(n_legs, np.nan)
    margin = np.zeros(n_legs)  # held by each leg's open position
    unreal = np.zeros(n_legs)  # each leg's open profit at its latest close
    realised = np.zeros(n_legs)  # each leg's closed P&L, net of commissions
    last_bar = np.full(n_legs, -1, dtype=np.int64)  # each leg's latest walked bar
    pending = np.zeros(n_legs, dtype=np.bool_)
    pend_close = np.zeros(n_legs, dtype=np.bool_)
    pend_reason = np.zeros(n_legs, dtype=np.int64)
    pend_dir = np.zeros(n_legs, dtype=np.int64)
    pend_sl = np.full(n_legs, np.nan)
    pend_tp = np.full(n_legs, np.nan)

    for j in range(n_events):
        k, i = ev_leg[j], ev_bar[j]
        a = offset[k]
        g = a + i  # this bar in the per-bar arrays
        last = length[k] - 1
        vpp = value_per_price[k]
        slip = slippage[k]
        last_bar[k] = i

        # 1. the leg's order from its previous bar
        if pending[k]:
            bar = i - 1 if trade_on_close else i
            px = close[g - 1] if trade_on_close else open_[g]
            vppa = vpp * to_account[a + bar]
            if pend_close[k] and pos[k] != 0.0:
                change = _close(
                    trades, n_trades, k, pos[k], entry_bar[k], entry_price[k], entry_comm[k], pos_sl[k],
                    pos_tp[k], px - math.copysign(slip, pos[k]), bar, pend_reason[k], vppa, rate, per_lot,
                )  # fmt: skip
                cash += change
                realised[k] += change
                n_trades += 1
                pos[k] = margin[k] = unreal[k] = 0.0
            if pend_dir[k] != 0 and pos[k] == 0.0:
                side = float(pend_dir[k])
                fill = px + side * slip
                adj = fill * (1.0 + side * spread_fraction)
                adj += side * spread[a + bar]
                notional = margin_per_lot[a + bar] * adj if margin_on_price[k] else margin_per_lot[a + bar]
                cost_per_lot = notional + fill * vppa * rate + per_lot
                account = cash
                used = 0.0
                for m in range(n_legs):
                    account += unreal[m]
                    used += margin[m]
                free = account - used
                raw = raw_position_size(
                    sizing_mode[k],
                    sizing_value[k],
                    free if sizing_mode[k] == 3 else account,
                    adj,
                    pend_sl[k],
                    vppa,
                    leverage,
                    cost_per_lot,
                )
                size = floor_to_step(raw, volume_step[k], volume_min[k], volume_max[k])
                if size > 0.0 and size * cost_per_lot <= max(free, 0.0) * leverage:
                    entry_comm[k] = size * adj * vppa * rate + per_lot * size
                    cash -= entry_comm[k]
                    realised[k] -= entry_comm[k]
                    pos[k], entry_price[k], entry_bar[k] = side * size, adj, bar
                    pos_sl[k], pos_tp[k] = pend_sl[k], pend_tp[k]
                    margin[k] = size * notional / leverage
                elif size > 0.0:
                    skipped[k, fills.SKIP_MARGIN] += 1
                elif sizing_mode[k] == 2 and (math.isnan(pend_sl[k]) or pend_sl[k] == adj):
                    skipped[k, fills.SKIP_NO_STOP] += 1
                else:
                    skipped[k, fills.SKIP_BELOW_MIN] += 1
            pending[k] = pend_close[k] = False
            pend_dir[k] = 0

        # 2. SL before TP on this bar's range (NaN levels never compare true)
        p = pos[k]
        if p != 0.0:
            hit, e_px, reason = False, 0.0, _SL
            if p > 0.0:
                if low[g] <= pos_sl[k]:
                    hit, e_px = True, min(open_[g], pos_sl[k]) - slip
                elif high[g] >= pos_tp[k]:
                    hit, e_px, reason = True, max(open_[g], pos_tp[k]), _TP
            elif high[g] >= pos_sl[k]:
                hit, e_px = True, max(open_[g], pos_sl[k]) + slip
            elif low[g] <= pos_tp[k]:
                hit, e_px, reason = True, min(open_[g], pos_tp[k]), _TP
            if hit:
                change = _close(
                    trades, n_trades, k, p, entry_bar[k], entry_price[k], entry_comm[k], pos_sl[k],
                    pos_tp[k], e_px, i, reason, vpp * to_account[g], rate, per_lot,
                )  # fmt: skip
                cash += change
                realised[k] += change
                n_trades += 1
                pos[k] = margin[k] = 0.0

        # 3. mark to market, then the account's checks
        p = pos[k]
        unreal[k] = 0.0 if p == 0.0 else p * (close[g] - entry_price[k]) * (vpp * to_account[g])
        while True:
            marked = cash
            used = 0.0
            for m in range(n_legs):
                marked += unreal[m]
                used += margin[m]
            if marked <= 0.0 or used == 0.0 or marked * 100.0 > stop_out_level * used:
                break
            worst = -1
            for m in range(n_legs):
                if pos[m] != 0.0 and (worst < 0 or unreal[m] < unreal[worst]):
                    worst = m
            gw = offset[worst] + last_bar[worst]
            change = _close(
                trades, n_trades, worst, pos[worst], entry_bar[worst], entry_price[worst], entry_comm[worst],
                pos_sl[worst], pos_tp[worst], close[gw], last_bar[worst], EXIT_STOP_OUT,
                value_per_price[worst] * to_account[gw], rate, per_lot,
            )  # fmt: skip
            cash += change
            realised[worst] += change
            n_trades += 1
            pos[worst] = margin[worst] = unreal[worst] = 0.0
        equity[j] = marked
        leg_pnl[g] = realised[k] + unreal[k]
        if marked <= 0.0:
            for m in range(n_legs):
                if pos[m] != 0.0:
                    gm = offset[m] + last_bar[m]
                    _close(
                        trades, n_trades, m, pos[m], entry_bar[m], entry_price[m], entry_comm[m], pos_sl[m],
                        pos_tp[m], close[gm], last_bar[m], _BANKRUPT, value_per_price[m] * to_account[gm],
                        rate, per_lot,
                    )  # fmt: skip
                    n_trades += 1
            equity[j:] = 0.0
            for r in range(j + 1, n_events):  # each leg's P&L stays where the account ran out
                leg_pnl[offset[ev_leg[r]] + ev_bar[r]] = realised[ev_leg[r]] + unreal[ev_leg[r]]
            return equity, leg_pnl, trades[:n_trades].copy(), skipped

        # 4. this bar's signals become the leg's next order
        if i >= start[k] and i < last:
            go_long, go_short = entry_long[g], entry_short[g]
            if p == 0.0:
                if go_long != go_short:  # both at once cancel each other
                    pend_dir[k] = 1 if go_long else -1
            else:
                want = 0
                if go_long and not go_short:
                    want = 1
                elif go_short and not go_long:
                    want = -1
                held = 1 if p > 0.0 else -1
                if want == -held:
                    pend_close[k], pend_reason[k] = True, _REVERSE
                elif exit_long[g] if held > 0 else exit_short[g]:
                    pend_close[k], pend_reason[k] = True, _SIGNAL
                if want != 0 and (pend_close[k] or want != held):
                    pend_dir[k] = want
            if pend_dir[k] != 0:
                pend_sl[k] = sl[g]
                pend_tp[k] = tp[g]
            pending[k] = pend_close[k] or pend_dir[k] != 0

    if finalize:
        for k in range(n_legs):
            if pos[k] != 0.0:
                g = offset[k] + length[k] - 1
                change = _close(
                    trades, n_trades, k, pos[k], entry_bar[k], entry_price[k], entry_comm[k], pos_sl[k],
                    pos_tp[k], close[g], length[k] - 1, _END, value_per_price[k] * to_account[g], rate,
                    per_lot,
                )  # fmt: skip
                n_trades += 1
                cash += change
                realised[k] += change
                leg_pnl[g] = realised[k]
        if n_events > 0:
            equity[n_events - 1] = cash
    return equity, leg_pnl, trades[:n_trades].copy(), skipped
