"""What a fired rule sends: a title, a line of text and the event that fired it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class AlertMessage:
    rule_id: int | None
    rule_name: str
    event_type: str
    title: str
    text: str
    symbol: str | None = None
    event: Mapping[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON body."""
        return {
            "rule": {"id": self.rule_id, "name": self.rule_name},
            "title": self.title,
            "text": self.text,
            "symbol": self.symbol,
            "event": dict(self.event),
        }

    def plain(self) -> str:
        """The message as one plain text (Telegram, e-mail body)."""
        return f"{self.title}\n{self.text}"
