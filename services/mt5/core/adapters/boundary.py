"""The adapter boundary's conversions: broker names and server time in, platform names and UTC out.

Pure functions, shared by every adapter over a MetaTrader5-compatible module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

import numpy as np

from services.mt5.core.terminal import TimeArg, to_epoch_ms
from shared.market import mt5_constants as mt5
from shared.market.records import SymbolInfo, Tick, TradeDeal, TradeOrder, TradePosition, TradeRequest

R = TypeVar("R", bound=NamedTuple)

_OFFSET_ROUNDING_S = 1800
_QUOTED = re.compile(r"'([^'\s]+)'")
# Fields holding epoch seconds / milliseconds in each record: the server-time offset comes off these.
_TIME_FIELDS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {
    Tick: (("time",), ("time_msc",)),
    SymbolInfo: (("time",), ()),
    TradePosition: (("time", "time_update"), ("time_msc", "time_update_msc")),
    TradeOrder: (("time_setup", "time_done", "time_expiration"), ("time_setup_msc", "time_done_msc")),
    TradeDeal: (("time",), ("time_msc",)),
}


def choose_filling(filling_mode: int, requested: int | None) -> int:
    """An ORDER_FILLING_* value the symbol allows: the requested one when allowed, else FOK, IOC, RETURN."""
    allowed = [
        mode
        for mode, bit in (
            (mt5.ORDER_FILLING_FOK, mt5.SYMBOL_FILLING_FOK),
            (mt5.ORDER_FILLING_IOC, mt5.SYMBOL_FILLING_IOC),
        )
        if filling_mode & bit
    ] or [mt5.ORDER_FILLING_RETURN]
    return requested if requested in allowed else allowed[0]


def measure_offset(latest_tick_s: int, utc_now_s: float) -> int:
    """The server-time offset implied by a fresh tick, rounded to the 30 minutes time zones step in."""
    return round((latest_tick_s - utc_now_s) / _OFFSET_ROUNDING_S) * _OFFSET_ROUNDING_S


class SymbolNames:
    """Platform <-> broker symbol names: explicit pairs first, else a common suffix."""

    def __init__(self, suffix: str = "", mapping: Mapping[str, str] | None = None) -> None:
        self._suffix = suffix
        self._to_broker = dict(mapping or {})
        self._to_platform = {b: p for p, b in self._to_broker.items()}

    def in_message(self, message: str) -> str:
        """The module's error message with the names it quotes ("Symbol 'EURUSDm' not found") as the
        platform's, so no answer shows a name the client never used."""
        return _QUOTED.sub(lambda m: f"'{self.to_platform(m.group(1))}'", message)

    def to_broker(self, name: str) -> str:
        return self._to_broker.get(name, name + self._suffix)

    def to_platform(self, name: str) -> str:
        if name in self._to_platform:
            return self._to_platform[name]
        if self._suffix and name.endswith(self._suffix):
            return name[: -len(self._suffix)]
        return name

    def group_to_broker(self, group: str) -> str:
        """Exact names inside an MT5 group filter become broker names; wildcard patterns stay as they are."""
        parts = []
        for raw in group.split(","):
            pattern = raw.strip()
            negate = pattern.startswith("!")
            body = pattern[1:] if negate else pattern
            if body and "*" not in body and "?" not in body:
                body = self.to_broker(body)
            parts.append(("!" if negate else "") + body)
        return ",".join(parts)


def server_datetime(value: TimeArg, offset_s: int) -> datetime:
    """A UTC date argument as the UTC-aware datetime the module reads as the broker's server time."""
    return datetime.fromtimestamp(to_epoch_ms(value) / 1000 + offset_s, UTC)


def platform_record(names: SymbolNames, cls: type[R], raw: Any, offset_s: int = 0) -> R:
    """Our named tuple from the module's record: our fields picked by name, UTC times, platform names."""
    values = raw._asdict() if hasattr(raw, "_asdict") else dict(zip(cls._fields, raw, strict=False))
    fields = {f: values[f] for f in cls._fields}
    seconds, millis = _TIME_FIELDS.get(cls, ((), ()))
    for f in seconds:
        if fields[f]:
            fields[f] -= offset_s
    for f in millis:
        if fields[f]:
            fields[f] -= offset_s * 1000
    name_field = "name" if cls is SymbolInfo else "symbol"  # AccountInfo.name is a person's name
    if name_field in fields:
        fields[name_field] = names.to_platform(fields[name_field])
    if "request" in fields:
        fields["request"] = platform_record(names, TradeRequest, fields["request"])
    return cls._make(fields[f] for f in cls._fields)


def platform_records(names: SymbolNames, cls: type[R], raw: Any, offset_s: int = 0) -> tuple[R, ...] | None:
    """platform_record over a tuple of records; None stays None (MT5's failure)."""
    return None if raw is None else tuple(platform_record(names, cls, r, offset_s) for r in raw)


def platform_array(raw: Any, dtype: np.dtype, offset_s: int) -> np.ndarray | None:
    """A local copy of the module's array with MT5's dtype, its times in UTC."""
    if raw is None:
        return None
    array = np.array(raw, dtype=dtype)
    array["time"] -= offset_s
    if "time_msc" in (dtype.names or ()):
        array["time_msc"] -= offset_s * 1000
    return array
