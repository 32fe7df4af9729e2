"""Margin call and stop-out (ACCOUNT_STOPOUT_MODE_PERCENT) over a batch of one symbol's ticks.

The margin level is equity / margin x 100, as `account_snapshot` reports it. When it falls to or below
`stop_out_level` with positions open, the most losing position (lowest profit, then lowest ticket) is
closed at the tick, with deal reason SO and comment `[so 49.87%]`, and the level is checked again at the
same tick, until it is above the level or no position is left. Positions of other symbols are valued, and
closed, at their latest known quote. Pending orders are left alone, as MT5's stop-out leaves them. When
the level first falls to or below `margin_call_level`, one `account.margin_call` event is published, and
not again until the level has been above it by MARGIN_CALL_RESET points.

Speed: while the state does not change, only the positions in the ticking symbol move, so their profit is
computed vectorised over the batch (`Pricing.profit_series`) with the rest of the account held constant
(or, when some of it converts through this symbol's bid, bounded by its values at the batch's lowest and
highest bid). Those float bounds are within a known slack of the exact level, so only ticks inside that
band are checked exactly with `account_snapshot`; every decision and every reported figure comes from it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from services.mt5.core.simulated.broker_accounting import Pricing, account_snapshot, close_price
from services.mt5.core.simulated.broker_checks import R, TradeRefused
from services.mt5.core.simulated.broker_ledger import Ledger, Tx
from shared.event_catalog import ACCOUNT_MARGIN_CALL, ACCOUNT_STOP_OUT
from shared.market import mt5_constants as mt5
from shared.market.records import AccountInfo, Tick

MARGIN_CALL_RESET = 10.0
"""Percentage points above `margin_call_level` the margin level must regain before another call."""

_Exact = Callable[[int], AccountInfo]  # the exact account at a tick index (memoised per scan)
# Each booked profit is rounded to the cent (half a cent of error per position), and the level to 0.01 %.
_CENT_ERROR = 0.005
_LEVEL_ERROR = 0.006


class _Estimate(NamedTuple):
    """Float bounds on the margin level per tick; the exact level is within `slack` of [low, high]."""

    low: np.ndarray
    high: np.ndarray
    slack: float


class StopOut(NamedTuple):
    """The first tick at which the account is at or below the stop-out level, and what to close there."""

    tick: int
    ticket: int
    account: AccountInfo


class AccountWatch:
    """Margin-level checks over one batch of ticks (TICKS_DTYPE, time order) of `symbol`."""

    def __init__(self, ledger: Ledger, symbol: str, ticks: np.ndarray) -> None:
        self._ledger = ledger
        self._settings = ledger.settings
        self._symbol = symbol
        self._ticks = ticks
        self._bid, self._ask, self._times = ticks["bid"], ticks["ask"], ticks["time_msc"]

    def scan(self, tx: Tx, lo: int, hi: int, unclosable: set[int]) -> StopOut | None:
        """Emit the margin-call changes on ticks [lo, hi) of the current state and return the first
        stop-out among them (at one tick the margin call is checked first, so the scan ends there)."""
        state = tx.state
        if not state.positions:
            state.margin_call = False
            return None
        # Ticks before the newest position opened belong to an account this state no longer describes.
        newest_ms = max(p.time_msc for p in state.positions.values())
        lo = max(lo, int(np.searchsorted(self._times, newest_ms, "left")))
        if lo >= hi:
            return None
        estimate = self._estimate(tx, lo, hi)
        if estimate is None:  # no margin held: nothing to call or to stop out
            state.margin_call = False
            return None
        exact: dict[int, AccountInfo] = {}

        def at(i: int) -> AccountInfo:
            if i not in exact:
                exact[i] = self._exact(tx, i)
            return exact[i]

        stop_out = self._first_stop_out(tx, estimate, lo, at, unclosable)
        end = hi if stop_out is None else stop_out.tick + 1
        self._margin_calls(tx, estimate, lo, end, at)
        return stop_out

    def apply(self, tx: Tx, stop_out: StopOut) -> None:
        """Close the stop-out's position on `tx`, whose tick for this symbol is the stop-out's tick."""
        position = tx.state.positions[stop_out.ticket]
        quote = self._ledger.quote_of(tx, position.symbol)
        if quote is None:
            raise TradeRefused(R.PRICE_OFF, f"no quote for {position.symbol}")
        account = stop_out.account
        deal = self._ledger.close_by_server(
            tx,
            position,
            close_price(position.type, quote),
            mt5.DEAL_REASON_SO,
            f"[so {account.margin_level:.2f}%]",
        )
        tx.emit(
            ACCOUNT_STOP_OUT,
            {
                "time_msc": tx.now_ms,
                "margin_level": account.margin_level,
                "equity": account.equity,
                "margin": account.margin,
                "stop_out_level": self._settings.stop_out_level,
                "position": position.ticket,
                "symbol": position.symbol,
                "order": deal.order,
                "deal": deal.ticket,
                "profit": deal.profit,
            },
        )

    # ---- internals ----------------------------------------------------------------------------------------

    def _estimate(self, tx: Tx, lo: int, hi: int) -> _Estimate | None:
        """Float bounds on the margin level at ticks [lo, hi); None when the account holds no margin."""
        ledger, state, symbol = self._ledger, tx.state, self._symbol
        bid, ask = self._bid[lo:hi], self._ask[lo:hi]
        consulted: set[str] = set()

        def spy(name: str) -> Tick | None:
            consulted.add(name)
            return ledger.quote_of(tx, name)

        pricing = Pricing(ledger.symbols, self._settings, spy)
        own = [p for p in state.positions.values() if p.symbol == symbol]
        others = [p for p in state.positions.values() if p.symbol != symbol]
        profits = [[pricing.revalue(p).profit for p in others]]
        margins = [[pricing.position_margin(p) for p in state.positions.values()]]
        if symbol in consulted:
            # Some other valuation converts through this symbol's bid. Each one is monotonic in that bid
            # (a rate is the bid or its inverse), so its values at the batch's lowest and highest bids
            # bound it at every tick in between.
            tick = Tick(*self._ticks[lo].item())
            profits, margins = [], []
            for extreme in (float(bid.min()), float(bid.max())):
                at_extreme = self._pricing_with(tx, tick._replace(bid=extreme))
                profits.append([at_extreme.revalue(p).profit for p in others])
                margins.append([at_extreme.position_margin(p) for p in state.positions.values()])
        rest_low = state.balance + sum(map(min, zip(*profits, strict=True)))
        rest_high = state.balance + sum(map(max, zip(*profits, strict=True)))
        margin_low = sum(map(min, zip(*margins, strict=True)))
        margin_high = sum(map(max, zip(*margins, strict=True)))
        if margin_high <= 0:
            return None
        moving = np.zeros(hi - lo)
        for p in own:
            series = pricing.profit_series(p, bid, ask)
            moving += pricing.revalue(p).profit if series is None else series
        if margin_low <= 0:  # a margin not convertible at one end: no usable bound, check every tick
            return _Estimate(np.full(hi - lo, -np.inf), np.full(hi - lo, np.inf), 0.0)
        equity_low, equity_high = moving + rest_low, moving + rest_high
        # Level bounds: equity / margin is lowest with the largest margin when the equity is positive.
        low = np.where(equity_low >= 0, equity_low / margin_high, equity_low / margin_low) * 100.0
        high = np.where(equity_high >= 0, equity_high / margin_low, equity_high / margin_high) * 100.0
        slack = (_CENT_ERROR * len(own) + 1e-6) / margin_low * 100.0 + _LEVEL_ERROR
        return _Estimate(low, high, slack)

    def _pricing_at(self, tx: Tx, i: int) -> Pricing:
        """Pricing at tick i of this symbol and the latest known quotes of the others."""
        return self._pricing_with(tx, Tick(*self._ticks[i].item()))

    def _pricing_with(self, tx: Tx, tick: Tick) -> Pricing:
        ledger, symbol = self._ledger, self._symbol
        return Pricing(
            ledger.symbols, self._settings, lambda s: tick if s == symbol else ledger.quote_of(tx, s)
        )

    def _exact(self, tx: Tx, i: int) -> AccountInfo:
        """The account at tick i, as account_info would report it then."""
        pricing = self._pricing_at(tx, i)
        return account_snapshot(self._settings, pricing, tx.state.balance, tx.state.positions.values())

    def _first_stop_out(
        self, tx: Tx, estimate: _Estimate, lo: int, at: _Exact, unclosable: set[int]
    ) -> StopOut | None:
        level = self._settings.stop_out_level
        for j in np.flatnonzero(estimate.low <= level + estimate.slack):
            account = at(lo + int(j))
            if account.margin_level <= level:
                ticket = self._most_losing(tx, lo + int(j), unclosable)
                return None if ticket is None else StopOut(lo + int(j), ticket, account)
        return None

    def _most_losing(self, tx: Tx, i: int, unclosable: set[int]) -> int | None:
        """The ticket of the position with the lowest profit at tick i (lowest ticket on a tie)."""
        pricing = self._pricing_at(tx, i)
        candidates = [
            (pricing.revalue(p).profit, p.ticket)
            for p in tx.state.positions.values()
            if p.ticket not in unclosable
        ]
        return min(candidates)[1] if candidates else None

    def _margin_calls(self, tx: Tx, estimate: _Estimate, lo: int, end: int, at: _Exact) -> None:
        """Emit `account.margin_call` at ticks [lo, end) where the level falls to or below the call level
        while no call stands; a call stands until the level is back above it by MARGIN_CALL_RESET points
        (a level hovering at the line would otherwise call on every other tick)."""
        level = self._settings.margin_call_level
        reset = level + MARGIN_CALL_RESET
        low, high = estimate.low[: end - lo], estimate.high[: end - lo]
        if not low.size or (not tx.state.margin_call and low.min() > level + estimate.slack):
            return  # the usual case: well above the call level throughout, and no call standing
        below = high <= level - estimate.slack
        for j in np.flatnonzero(~below & (low <= level + estimate.slack)):
            below[j] = at(lo + int(j)).margin_level <= level
        recovered = low > reset + estimate.slack
        for j in np.flatnonzero(~recovered & (high > reset - estimate.slack)):
            recovered[j] = at(lo + int(j)).margin_level > reset
        # The call stands after a tick below the level, and no longer after a recovered one.
        marked = np.flatnonzero(below | recovered)
        if not marked.size:
            return
        calls = below[marked]
        standing_before = np.concatenate(([tx.state.margin_call], calls[:-1]))
        for j in marked[calls & ~standing_before]:
            account = at(lo + int(j))
            tx.emit(
                ACCOUNT_MARGIN_CALL,
                {
                    "time_msc": int(self._times[lo + int(j)]),
                    "margin_level": account.margin_level,
                    "equity": account.equity,
                    "margin": account.margin,
                    "balance": account.balance,
                    "margin_call_level": level,
                },
            )
        tx.state.margin_call = bool(calls[-1])
