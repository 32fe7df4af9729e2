"""Every order, whoever sends it: live gate, risk guard, client order id, then the terminal; refusals as errors.

The live gate is checked first, on the event loop, so a paper setup pointed at a real terminal is told
why at once even while that terminal is away. The rest runs as one call in the gateway's worker thread:
the guard's view of positions and orders and the send that follows are one step that no other request
of this service can interleave with. A real terminal's `order_check` runs just before the `order_send` of
a deal or a pending order: a request it refuses is never sent, and the refusal carries the margin it would
take and the free margin.

HTTP status of a refusal by the terminal (the retcode is always in the error's details):
- 422 the request itself is wrong (a field is invalid): 10013-10016, 10022, 10030, 10035, 10038;
- 409 the request is fine but the market or account refuses it now: market closed, no money, requote,
  price changed/off, trade disabled, position closed, no changes, limits, frozen/locked, long/short/close
  only, reject, cancel, and any other refusal;
- 403 trading is not permitted: autotrading disabled on the server or client, live accounts only;
- 429 too many requests; 503 no connection or timeout (the outcome of a timeout is unknown: check the
  orders and deals before sending again).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.mt5.core.gateway import TerminalGateway, terminal_failure
from services.mt5.core.idempotency import ClientOrderIds
from services.mt5.core.kill_switch import KillSwitch
from services.mt5.core.price_bounds import distance_refusal, priced_fields
from services.mt5.core.risk_guard import LiveTradingGate, RiskGuard, RiskRuleViolation, adds_risk
from shared.errors import NotFoundError, PlatformError
from shared.event_catalog import ORDER_REJECTED
from shared.event_payloads import OrderEvent, Publish
from shared.market import mt5_constants as mt5
from shared.market.records import (
    OrderCheckResult,
    OrderSendResult,
    TradeOrder,
    TradePosition,
    trade_request_from_dict,
)

log = logging.getLogger(__name__)

R = mt5.TradeRetcode
SUCCESS_RETCODES = frozenset({R.DONE, R.PLACED, R.DONE_PARTIAL})
_STATUS_BY_RETCODE: dict[int, int] = {
    **dict.fromkeys(
        (
            R.INVALID,
            R.INVALID_VOLUME,
            R.INVALID_PRICE,
            R.INVALID_STOPS,
            R.INVALID_EXPIRATION,
            R.INVALID_FILL,
            R.INVALID_ORDER,
            R.INVALID_CLOSE_VOLUME,
        ),
        422,
    ),
    **dict.fromkeys((R.SERVER_DISABLES_AT, R.CLIENT_DISABLES_AT, R.ONLY_REAL), 403),
    R.TOO_MANY_REQUESTS: 429,
    **dict.fromkeys((R.TIMEOUT, R.CONNECTION), 503),
}
# The field a retcode points at when the terminal's comment does not name one.
_FIELD_BY_RETCODE: dict[int, str] = {
    R.INVALID_VOLUME: "volume",
    R.INVALID_PRICE: "price",
    R.INVALID_STOPS: "sl",
    R.INVALID_EXPIRATION: "expiration",
    R.INVALID_FILL: "type_filling",
    R.INVALID_CLOSE_VOLUME: "volume",
    R.INVALID_ORDER: "order",
}
_FIELD_IN_COMMENT = re.compile(r"field '(\w+)'")


def retcode_name(retcode: int) -> str:
    """MT5's TRADE_RETCODE_* name without the prefix ("INVALID_VOLUME"), or "UNKNOWN_<n>"."""
    try:
        return R(retcode).name
    except ValueError:
        return f"UNKNOWN_{retcode}"


def http_status_of(retcode: int) -> int:
    """The HTTP status a refused request answers with (see the module docstring)."""
    return _STATUS_BY_RETCODE.get(retcode, 409)


class OrderRefused(PlatformError):
    """The terminal refused a trade request; nothing changed. Status and code follow the retcode."""

    def __init__(self, result: OrderSendResult | OrderCheckResult, **extra: Any) -> None:
        name = retcode_name(result.retcode)
        named = _FIELD_IN_COMMENT.search(result.comment)
        field = named.group(1) if named else _FIELD_BY_RETCODE.get(result.retcode)
        super().__init__(
            f"order refused ({result.retcode} {name}): {result.comment}",
            code=name.lower(),
            status_code=http_status_of(result.retcode),
            details={
                "retcode": result.retcode,
                "retcode_name": name,
                "comment": result.comment,
                "field": field,
                **extra,
                "request": result.request._asdict(),
            },
        )


class OrderCheckRefused(OrderRefused):
    """A real terminal's order_check foresaw the refusal, so nothing was sent; its margin figures say why."""

    def __init__(self, check: OrderCheckResult) -> None:
        super().__init__(
            check,
            order_check={
                "margin": check.margin,
                "margin_free": check.margin_free,
                "margin_level": check.margin_level,
                "balance": check.balance,
                "equity": check.equity,
            },
        )


# order_check's verdict on a request the server would take: 0 ("Done"); some builds answer DONE.
_CHECK_PASSED = frozenset({0, R.DONE})
# The requests that take margin, so order_check has something to say before them (modifying SL/TP or a
# pending order, and deleting one, go straight to the server, which answers for itself).
_CHECKED_ACTIONS = frozenset({mt5.TRADE_ACTION_DEAL, mt5.TRADE_ACTION_PENDING})


@dataclass(frozen=True, slots=True)
class OrderItem:
    """One order_send of a batch."""

    request: Mapping[str, Any]
    client_order_id: str | None = None


@dataclass(frozen=True, slots=True)
class CloseItem:
    """One position close of a batch."""

    ticket: int
    volume: float | None = None
    client_order_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


BatchItem = OrderItem | CloseItem
Outcome = OrderSendResult | PlatformError
"""An accepted result, or the refusal the request alone would have raised."""


def _opposite(position_type: int) -> int:
    return mt5.ORDER_TYPE_SELL if position_type == mt5.POSITION_TYPE_BUY else mt5.ORDER_TYPE_BUY


class TradingDesk:
    """The one path to `order_send`, plus the requests behind the REST shortcuts (modify, cancel, close)."""

    def __init__(
        self,
        gateway: TerminalGateway,
        *,
        guard: RiskGuard,
        gate: LiveTradingGate,
        client_ids: ClientOrderIds,
        real_terminal: bool,
        publish: Publish,
        publish_refusals: bool,
        max_price_distance_fraction: float,
    ) -> None:
        self._gateway = gateway
        self.backend = gateway.backend
        self._terminal = gateway.terminal
        self.guard = guard
        self.gate = gate
        self._client_ids = client_ids
        self.real_terminal = real_terminal
        self._publish = publish
        # The simulated terminal's broker emits order events itself, refusals included. A real terminal's
        # fills and placements are published by TerminalActivity from what the terminal shows (whoever
        # sent them); a refusal leaves no trace there, so it is published here.
        self._publish_refusals = publish_refusals
        self._max_price_distance_fraction = max_price_distance_fraction

    async def send(self, request: Mapping[str, Any], client_order_id: str | None = None) -> OrderSendResult:
        """Send one request; an accepted result is returned, a refusal raised (OrderRefused, 403, 409)."""
        self.gate.check(real_terminal=self.real_terminal)
        return await self._gateway.run(self._send, dict(request), client_order_id)

    async def send_batch(self, items: Sequence[BatchItem]) -> list[Outcome]:
        """Several requests in one turn of the worker, in order, each on its own: a refusal is returned in
        its place and the rest still go. Saves a round trip per order when many are due at once (the
        strategy service's instances on one candle)."""
        self.gate.check(real_terminal=self.real_terminal)
        return await self._gateway.run(self._send_batch, list(items))

    async def check(self, request: Mapping[str, Any]) -> tuple[OrderCheckResult, dict[str, Any] | None]:
        """order_check, and the details of the risk rule the request would break (None: none); sends nothing."""
        return await self._gateway.run(self._check, dict(request))

    async def modify_order(self, ticket: int, changes: Mapping[str, Any]) -> OrderSendResult:
        """TRADE_ACTION_MODIFY of a pending order; fields not in `changes` keep their current values."""
        self.gate.check(real_terminal=self.real_terminal)
        return await self._gateway.run(self._modify_order, ticket, dict(changes))

    async def cancel_order(self, ticket: int) -> OrderSendResult:
        """TRADE_ACTION_REMOVE of a pending order."""
        self.gate.check(real_terminal=self.real_terminal)
        return await self._gateway.run(self._cancel_order, ticket)

    async def modify_position(self, ticket: int, changes: Mapping[str, Any]) -> OrderSendResult:
        """TRADE_ACTION_SLTP; sl or tp not in `changes` keep their current values."""
        self.gate.check(real_terminal=self.real_terminal)
        return await self._gateway.run(self._modify_position, ticket, dict(changes))

    async def close_position(
        self,
        ticket: int,
        *,
        volume: float | None = None,
        client_order_id: str | None = None,
        **extra: Any,
    ) -> OrderSendResult:
        """An opposite market deal on the position: all of it, or `volume` lots of it."""
        self.gate.check(real_terminal=self.real_terminal)
        return await self._gateway.run(self._close_position, ticket, volume, client_order_id, extra)

    # ----- in the worker thread --------------------------------------------------------------------------

    def _send_batch(self, items: list[BatchItem]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for item in items:
            try:
                if isinstance(item, OrderItem):
                    outcomes.append(self._send(dict(item.request), item.client_order_id))
                else:
                    outcomes.append(
                        self._close_position(item.ticket, item.volume, item.client_order_id, dict(item.extra))
                    )
            except PlatformError as refused:
                outcomes.append(refused)
            except Exception:
                # A bug must not cost the items around it their answers (those before may have traded):
                # it is logged with its traceback and answered in its own place.
                log.exception("unexpected error on item %d of an order batch", len(outcomes))
                outcomes.append(
                    PlatformError(
                        "internal error; see the service log", code="internal_error", status_code=500
                    )
                )
        return outcomes

    def _send(self, request: dict[str, Any], client_order_id: str | None) -> OrderSendResult:
        try:
            if client_order_id:
                result = self._client_ids.send_once(client_order_id, request, self._guarded_send)
            else:
                result = self._guarded_send(request)
        except (RiskRuleViolation, OrderCheckRefused) as refused:
            self._publish(
                ORDER_REJECTED,
                OrderEvent.model_validate(
                    {
                        "symbol": request.get("symbol", ""),
                        "client_order_id": client_order_id,
                        **refused.details,
                    }
                ),
            )
            raise
        if result is None:
            raise terminal_failure(self._terminal, "order_send")
        if self._publish_refusals and result.retcode not in SUCCESS_RETCODES:
            data = {**result._asdict(), "request": result.request._asdict(), "symbol": result.request.symbol}
            self._publish(ORDER_REJECTED, OrderEvent.model_validate(data))
        return self._accepted(result)

    def _accepted(self, result: OrderSendResult) -> OrderSendResult:
        if result.retcode not in SUCCESS_RETCODES:
            raise OrderRefused(result)
        return result

    def _check(self, request: dict[str, Any]) -> tuple[OrderCheckResult, dict[str, Any] | None]:
        refusal = self._price_refusal(request)
        if refusal is not None:
            return self._check_refused(request, *refusal), None
        violation = None
        try:
            self._check_risk(request)
        except RiskRuleViolation as refused:
            violation = {"code": refused.code, "message": refused.message, **refused.details}
        result = self._terminal.order_check(request)
        if result is None:
            raise terminal_failure(self._terminal, "order_check")
        return result, violation

    def _modify_order(self, ticket: int, changes: dict[str, Any]) -> OrderSendResult:
        order = self._order(ticket)
        request = {
            "action": mt5.TRADE_ACTION_MODIFY,
            "order": ticket,
            "symbol": order.symbol,
            "price": order.price_open,
            "sl": order.sl,
            "tp": order.tp,
            "type_time": order.type_time,
            "expiration": order.time_expiration,
            **changes,
        }
        return self._send(request, None)

    def _cancel_order(self, ticket: int) -> OrderSendResult:
        order = self._order(ticket)
        return self._send({"action": mt5.TRADE_ACTION_REMOVE, "order": ticket, "symbol": order.symbol}, None)

    def _modify_position(self, ticket: int, changes: dict[str, Any]) -> OrderSendResult:
        position = self._position(ticket)
        request = {
            "action": mt5.TRADE_ACTION_SLTP,
            "position": ticket,
            "symbol": position.symbol,
            "sl": position.sl,
            "tp": position.tp,
            **changes,
        }
        return self._send(request, None)

    def _close_position(
        self, ticket: int, volume: float | None, client_order_id: str | None, extra: dict[str, Any]
    ) -> OrderSendResult:
        if client_order_id:
            stored = self._client_ids.lookup(client_order_id)
            if stored is not None:  # closed before under this id; the position itself may be gone
                return self._accepted(stored)
        position = self._position(ticket)
        request = {
            "action": mt5.TRADE_ACTION_DEAL,
            "position": ticket,
            "symbol": position.symbol,
            "type": _opposite(position.type),
            "volume": position.volume if volume is None else volume,
            **extra,
        }
        return self._send(request, client_order_id)

    def _guarded_send(self, request: Mapping[str, Any]) -> OrderSendResult | None:
        refusal = self._price_refusal(request)
        if refusal is not None:
            retcode, comment = refusal
            return OrderSendResult(
                retcode, 0, 0, 0.0, 0.0, 0.0, 0.0, comment, 0, 0, trade_request_from_dict(dict(request))
            )
        self._check_risk(request)
        if self.real_terminal and request.get("action") in _CHECKED_ACTIONS:
            # A real server's refusal costs a round trip to the broker and says little; order_check says
            # the same locally, with the margin it would take and the free margin there is.
            check = self._terminal.order_check(dict(request))
            if check is None:
                raise self._check_failure(request)
            if check.retcode not in _CHECK_PASSED:
                raise OrderCheckRefused(check)
        return self._terminal.order_send(dict(request))

    def _check_failure(self, request: Mapping[str, Any]) -> PlatformError:
        """Why order_check could not answer: a symbol the terminal does not know (404 naming the field, as
        the market data routes answer), or the terminal's failure."""
        if self._terminal.last_error()[0] == mt5.RES_E_NOT_FOUND:
            symbol = request.get("symbol")
            return NotFoundError(
                f"unknown symbol {symbol!r}",
                code="unknown_symbol",
                details={"symbol": symbol, "field": "symbol"},
            )
        return terminal_failure(self._terminal, "order_check")

    def _price_refusal(self, request: Mapping[str, Any]) -> tuple[int, str] | None:
        """(retcode, comment) when a price field is beyond the platform's distance bound (price_bounds)."""
        symbol = request.get("symbol")
        if not isinstance(symbol, str) or not symbol or not priced_fields(request):
            return None
        tick = self._terminal.symbol_info_tick(symbol)
        if tick is None:  # unknown symbol or no quote: the terminal answers that itself
            return None
        return distance_refusal(request, tick, self._max_price_distance_fraction)

    def _check_refused(self, request: Mapping[str, Any], retcode: int, comment: str) -> OrderCheckResult:
        """order_check's answer to a request refused before the terminal: the account as it stands."""
        account = self._terminal.account_info()
        money = (0.0,) * 6
        if account is not None:
            a = account
            money = (a.balance, a.equity, a.profit, a.margin, a.margin_free, a.margin_level)
        return OrderCheckResult(retcode, *money, comment, trade_request_from_dict(dict(request)))

    def _check_risk(self, request: Mapping[str, Any]) -> None:
        if not adds_risk(request):
            return
        positions = self._terminal.positions_get()
        orders = self._terminal.orders_get()
        if positions is None or orders is None:  # the guard fails closed without the book
            raise terminal_failure(self._terminal, "reading positions for the risk guard")
        self.guard.check(request, positions=positions, orders=orders)

    def _order(self, ticket: int) -> TradeOrder:
        return self._one(self._terminal.orders_get(ticket=ticket), "order", ticket)

    def _position(self, ticket: int) -> TradePosition:
        return self._one(self._terminal.positions_get(ticket=ticket), "position", ticket)

    def _one(self, found: tuple[Any, ...] | None, kind: str, ticket: int) -> Any:
        if found is None:
            raise terminal_failure(self._terminal, f"reading {kind} {ticket}")
        if not found:
            raise NotFoundError(
                f"no open {kind} with ticket {ticket}", code=f"{kind}_not_found", details={"ticket": ticket}
            )
        return found[0]


def trading_status(desk: TradingDesk, kill_switch: KillSwitch) -> dict[str, Any]:
    """Mode, live gate, backend, kill switch and risk limits (GET /trading/status and /health)."""
    return {
        "mode": desk.gate.mode,
        "live_allowed": desk.gate.live_allowed,
        "backend": desk.backend,
        **kill_switch.status(),
        "limits": desk.guard.limits.model_dump(mode="json"),
    }
