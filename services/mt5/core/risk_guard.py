"""Risk rules checked on every order before it reaches any terminal, and the gate for live trading.

What counts as adding risk: a market order that opens a position (DEAL without `position`), a pending
order (PENDING), and changing a pending order (MODIFY). Closing (DEAL with `position`), close-by, removing
a pending order and changing a position's SL/TP never add volume, so they pass every rule, the kill
switch included: a halted account can always get flat.

Counting: a pending order is counted as the position it may become, because its trigger happens inside
the terminal where no guard runs. `max_open_positions` bounds open positions plus pending orders.
Exposure per symbol is the gross volume in one direction (open positions plus pending orders, in lots):
on a hedging account a buy and a sell are separate positions that can be closed independently, so an
opposite position does not offset the limit.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import ForbiddenError
from shared.market import mt5_constants as mt5
from shared.market.records import TradeOrder, TradePosition

LIVE_CONFIRM_ENV = "MT5_LIVE_TRADING_CONFIRM"
LIVE_CONFIRM_VALUE = "I_UNDERSTAND"
_BUY_TYPES = frozenset(
    {mt5.ORDER_TYPE_BUY, mt5.ORDER_TYPE_BUY_LIMIT, mt5.ORDER_TYPE_BUY_STOP, mt5.ORDER_TYPE_BUY_STOP_LIMIT}
)


class RiskLimits(BaseModel):
    """Limits applied to every order; None disables a rule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_symbols: frozenset[str] | None = Field(default=None, description="None allows every symbol")
    max_volume_per_order: float | None = Field(default=None, gt=0, description="lots")
    max_open_positions: int | None = Field(default=None, ge=0, description="positions plus pending orders")
    max_exposure_per_symbol: float | None = Field(
        default=None, gt=0, description="lots in one direction per symbol, positions plus pending orders"
    )


class RiskRuleViolation(ForbiddenError):
    """An order refused by a risk rule; nothing was sent."""

    code = "risk_rule_violated"


class RiskGuard:
    """Checks orders against RiskLimits and a kill switch (halt/resume), thread-safe."""

    def __init__(self, limits: RiskLimits, *, halted: bool = False) -> None:
        self.limits = limits
        self._halted = halted
        self._halt_reason = ""
        self._lock = threading.Lock()

    @property
    def halted(self) -> bool:
        return self._halted

    def halt(self, reason: str = "") -> None:
        """Kill switch on: every order that adds risk is refused until `resume`."""
        with self._lock:
            self._halted, self._halt_reason = True, reason

    def resume(self) -> None:
        """Kill switch off."""
        with self._lock:
            self._halted, self._halt_reason = False, ""

    def check(
        self,
        request: Mapping[str, Any],
        *,
        positions: Sequence[TradePosition],
        orders: Sequence[TradeOrder],
    ) -> None:
        """Raise RiskRuleViolation when `request` breaks a rule, given the open positions and orders."""
        if not adds_risk(request):
            return
        with self._lock:
            halted, reason = self._halted, self._halt_reason
        if halted:
            raise RiskRuleViolation(
                "trading is halted (kill switch): only closing positions and deleting orders is allowed",
                code="trading_halted",
                details={"rule": "kill_switch", "reason": reason},
            )
        if request.get("action") == mt5.TRADE_ACTION_MODIFY:
            return  # volume and symbol of a pending order do not change
        symbol = str(request.get("symbol", ""))
        volume = float(request.get("volume", 0.0))
        buying = request.get("type") in _BUY_TYPES
        limits = self.limits
        if limits.allowed_symbols is not None and symbol not in limits.allowed_symbols:
            _violation("allowed_symbols", sorted(limits.allowed_symbols), symbol, f"{symbol} is not allowed")
        if limits.max_volume_per_order is not None and volume > limits.max_volume_per_order:
            _violation(
                "max_volume_per_order", limits.max_volume_per_order, volume, f"volume {volume} too large"
            )
        if (
            limits.max_open_positions is not None
            and len(positions) + len(orders) + 1 > limits.max_open_positions
        ):
            count = len(positions) + len(orders)
            _violation("max_open_positions", limits.max_open_positions, count + 1, "too many open positions")
        if limits.max_exposure_per_symbol is not None:
            exposure = _exposure(symbol, buying, positions, orders) + Decimal(repr(volume))
            if exposure > Decimal(repr(limits.max_exposure_per_symbol)):
                side = "long" if buying else "short"
                _violation(
                    "max_exposure_per_symbol",
                    limits.max_exposure_per_symbol,
                    float(exposure),
                    f"{side} exposure on {symbol} would be {exposure} lots",
                )


def adds_risk(request: Mapping[str, Any]) -> bool:
    """True for requests that can open or add volume (see the module docstring)."""
    action = request.get("action")
    if action == mt5.TRADE_ACTION_DEAL:
        return not request.get("position")
    # Unknown actions count as risky: the guard fails closed; the terminal then refuses them anyway.
    return action not in (mt5.TRADE_ACTION_SLTP, mt5.TRADE_ACTION_REMOVE, mt5.TRADE_ACTION_CLOSE_BY)


def _exposure(
    symbol: str, buying: bool, positions: Sequence[TradePosition], orders: Sequence[TradeOrder]
) -> Decimal:
    position_type = mt5.POSITION_TYPE_BUY if buying else mt5.POSITION_TYPE_SELL
    total = sum(
        (Decimal(repr(p.volume)) for p in positions if p.symbol == symbol and p.type == position_type),
        Decimal(0),
    )
    return total + sum(
        (
            Decimal(repr(o.volume_current))
            for o in orders
            if o.symbol == symbol and (o.type in _BUY_TYPES) == buying
        ),
        Decimal(0),
    )


def _violation(rule: str, limit: Any, value: Any, message: str) -> None:
    raise RiskRuleViolation(
        f"risk rule {rule} violated: {message} (limit {limit})",
        details={"rule": rule, "limit": limit, "value": value},
    )


class LiveTradingGate:
    """Live orders only when trading.mode is "live" AND the environment confirms it explicitly."""

    def __init__(self, mode: Literal["paper", "live"] | str, env_confirmation: str | None) -> None:
        self.mode = mode
        self._confirmed = env_confirmation == LIVE_CONFIRM_VALUE

    @classmethod
    def from_environ(cls, mode: str, environ: Mapping[str, str]) -> LiveTradingGate:
        """The gate for `mode` with the confirmation read from `environ` (e.g. os.environ)."""
        return cls(mode, environ.get(LIVE_CONFIRM_ENV))

    @property
    def live_allowed(self) -> bool:
        return self.mode == "live" and self._confirmed

    def check(self, *, real_terminal: bool) -> None:
        """Refuse an order bound for a real terminal unless live trading is enabled; paper always passes."""
        if not real_terminal or self.live_allowed:
            return
        if self.mode != "live":
            why = f'trading.mode is "{self.mode}"; set it to "live" to send orders to a real terminal'
        else:
            why = f"live trading needs the environment confirmation {LIVE_CONFIRM_ENV}={LIVE_CONFIRM_VALUE}"
        raise ForbiddenError(
            f"live trading is disabled: {why}",
            code="live_trading_disabled",
            details={"mode": self.mode, "confirmation_env": LIVE_CONFIRM_ENV},
        )
