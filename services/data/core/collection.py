"""Collection of several symbols, one task each, and its intent (running or not, which symbols) kept in
a small file, so a restarted or killed service resumes collecting by itself."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from services.data.core.collector import SymbolCollector, TerminalHorizon
from services.data.core.mt5_source import TickSource
from services.data.core.stores import DataStores
from services.data.settings import CollectionSection
from shared.disk_full import StorageState
from shared.event_payloads import Publish
from shared.utils import get_timestamp_ms


class Intent(BaseModel):
    running: bool = False
    symbols: list[str] = []


class CollectionIntent:
    """Reads and atomically replaces `collection.json`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Intent:
        """The saved intent; a missing or unreadable file means "not running"."""
        try:
            return Intent.model_validate_json(self.path.read_bytes())
        except (OSError, ValidationError):
            return Intent()

    def save(self, *, running: bool, symbols: list[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(Intent(running=running, symbols=symbols).model_dump_json())
        os.replace(tmp, self.path)  # a crash leaves the old file or the new one, never half of one


class Collector:
    """Collection of several symbols, one task each; the running intent survives restarts."""

    def __init__(
        self,
        stores: DataStores,
        source: TickSource,
        config: CollectionSection,
        publish: Publish,
        intent: CollectionIntent,
        storage: StorageState,
        *,
        wall_ms: Callable[[], int] = get_timestamp_ms,
        market_ms: Callable[[], int] | None = None,
    ) -> None:
        self._stores = stores
        self._source = source
        self._config = config
        self._publish = publish
        self._intent = intent
        self._storage = storage
        self._wall_ms = wall_ms
        # Lags are measured on the market's clock (a replay's is not the wall's), DESIGN §11.
        self._market_ms = market_ms or wall_ms
        self._horizon = TerminalHorizon()
        self._collectors: dict[str, SymbolCollector] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._stop = asyncio.Event()

    @property
    def intent_path(self) -> Path:
        return self._intent.path

    @property
    def running_symbols(self) -> list[str]:
        return [s for s, task in self._tasks.items() if not task.done()]

    async def start(self, symbols: list[str]) -> dict[str, Any]:
        """Collect `symbols` (in addition to those running) and remember to do so after a restart."""
        if self._stop.is_set():
            self._stop = asyncio.Event()
        for symbol in symbols:
            if symbol in self._tasks and not self._tasks[symbol].done():
                continue
            collector = SymbolCollector(
                symbol,
                self._stores,
                self._source,
                self._config,
                self._publish,
                self._horizon,
                self._storage,
                wall_ms=self._wall_ms,
                market_ms=self._market_ms,
            )
            self._collectors[symbol] = collector
            self._tasks[symbol] = asyncio.create_task(collector.run(self._stop), name=f"collect-{symbol}")
        self._intent.save(running=True, symbols=self.running_symbols)
        return self.status()

    async def resume(self) -> bool:
        """Start again what was collecting when the service stopped (or was killed)."""
        intent = self._intent.load()
        if intent.running and intent.symbols:
            await self.start(intent.symbols)
            return True
        return False

    async def stop(self) -> dict[str, Any]:
        """Stop every symbol, flushing its batch, and remember that collection is off."""
        await self._halt()
        self._intent.save(running=False, symbols=[])
        return self.status()

    async def aclose(self) -> None:
        """Service shutdown: flush and stop, keeping the intent so a restart resumes."""
        await self._halt()

    async def _halt(self) -> None:
        self._stop.set()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    def status(self) -> dict[str, Any]:
        now = self._market_ms()
        symbols = [c.status.as_dict(now) for c in self._collectors.values()]
        return {
            "running": bool(self.running_symbols),
            "symbols": symbols,
            "ticks_per_s": round(sum(s["ticks_per_s"] for s in symbols if s["running"]), 1),
        }
