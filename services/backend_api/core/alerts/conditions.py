"""The rules' conditions as pure functions of events and prices, so each is tested without I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from services.backend_api.core.alerts.rules import EventRule, IndicatorRule, PatternRule, PriceCrossRule
from shared import event_catalog as ev
from shared.market.mt5_constants import DEAL_REASON_SL, DEAL_REASON_TP

JOB_FAILED_TYPES = frozenset(ev.job_event(kind, "failed") for kind in ev.JOB_KINDS)

# The event types each platform trigger listens to; `platform_matches` refines by the payload.
TRIGGER_TYPES: dict[str, frozenset[str]] = {
    "fill": frozenset({ev.ORDER_FILLED}),
    "sl_tp": frozenset({ev.ORDER_FILLED}),
    "stop_out": frozenset({ev.ACCOUNT_STOP_OUT}),
    "margin_call": frozenset({ev.ACCOUNT_MARGIN_CALL}),
    "strategy_stopped": frozenset({ev.STRATEGY_STATUS}),
    "service_error": frozenset({ev.SERVICE_STATUS}),
    "job_failed": JOB_FAILED_TYPES,
}


def crossed(previous: float, price: float, rule: PriceCrossRule) -> str | None:
    """ "up" or "down" when the move from `previous` to `price` crosses the rule's level its way, else None.
    Touching the level counts as crossing it; leaving it does not (no double firing on a touch)."""
    if previous < rule.level <= price and rule.direction in ("up", "any"):
        return "up"
    if previous > rule.level >= price and rule.direction in ("down", "any"):
        return "down"
    return None


def indicator_values(closes: np.ndarray, rule: IndicatorRule) -> np.ndarray:
    """The rule's indicator over `closes` (NaN during its warm-up)."""
    import talib  # here, not at start-up: it costs backend-api's start and only indicator rules need it

    function = getattr(talib, rule.indicator)
    return np.asarray(function(np.ascontiguousarray(closes, dtype=np.float64), timeperiod=rule.period))


def _holds(value: float, rule: IndicatorRule) -> bool:
    return value < rule.value if rule.op == "<" else value > rule.value


def indicator_entered(closes: np.ndarray, rule: IndicatorRule) -> float | None:
    """The indicator's value on the last close when the condition holds there and did not on the close
    before (so RSI < 30 fires once on entering, not on every bar it stays there), else None."""
    values = indicator_values(closes, rule)
    if len(values) < 2 or not np.isfinite(values[-1]) or not np.isfinite(values[-2]):
        return None
    last, before = float(values[-1]), float(values[-2])
    return last if _holds(last, rule) and not _holds(before, rule) else None


def pattern_matches(rule: PatternRule, data: Mapping[str, Any]) -> bool:
    """Whether a `pattern.detected` payload is one the rule asks for (pattern names without `CDL`)."""
    if rule.symbol and str(data.get("symbol", "")).upper() != rule.symbol:
        return False
    if rule.timeframe and str(data.get("timeframe", "")).upper() != rule.timeframe:
        return False
    if rule.pattern:
        name = str(data.get("pattern", "")).upper()
        if name.removeprefix("CDL") != rule.pattern.removeprefix("CDL"):
            return False
    return not rule.direction or str(data.get("direction", "")).lower() == rule.direction


def platform_matches(rule: EventRule, event_type: str, data: Mapping[str, Any]) -> bool:
    """Whether a platform event is the rule's trigger."""
    if event_type not in TRIGGER_TYPES[rule.trigger]:
        return False
    match rule.trigger:
        case "sl_tp":
            return data.get("reason") in (DEAL_REASON_SL, DEAL_REASON_TP)
        case "strategy_stopped":
            # Stopped by its own rules (daily loss) or an error, not by the trader's request.
            return (
                data.get("from") == "running"
                and data.get("to") in ("stopped", "error")
                and data.get("reason") != "stopped by request"
            )
        case "service_error":
            return data.get("to") == "ERROR"
        case "job_failed":
            return data.get("reason") != "cancelled"
    return True
