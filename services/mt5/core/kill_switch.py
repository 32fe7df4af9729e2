"""The kill switch, persisted: a halted account stays halted across a restart or a crash of the service."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.mt5.core.risk_guard import RiskGuard


class KillSwitch:
    """Halts and resumes the risk guard, keeping the halt (reason, since when) in a small JSON file."""

    def __init__(self, path: Path, guard: RiskGuard, *, now_ms: Callable[[], int]) -> None:
        self._path = path
        self._guard = guard
        self._now_ms = now_ms
        self.reason = ""
        self.since_ms: int | None = None
        if path.is_file():
            state = json.loads(path.read_text())
            self.reason, self.since_ms = str(state.get("reason", "")), state.get("since_ms")
            guard.halt(self.reason)

    def halt(self, reason: str = "") -> None:
        """Refuse every order that adds risk until resume(); the file is written before the guard flips."""
        since_ms = self._now_ms()
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"reason": reason, "since_ms": since_ms}))
        tmp.replace(self._path)  # atomic: a crash leaves the old or the new state, never half a file
        self.reason, self.since_ms = reason, since_ms
        self._guard.halt(reason)

    def resume(self) -> None:
        """Trading allowed again."""
        self._path.unlink(missing_ok=True)
        self.reason, self.since_ms = "", None
        self._guard.resume()

    def status(self) -> dict[str, Any]:
        return {"halted": self._guard.halted, "reason": self.reason, "since_ms": self.since_ms}
