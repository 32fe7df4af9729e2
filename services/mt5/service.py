"""Wiring: the mt5 service's core objects built from its settings (the lifespan calls `build_components`)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from services.mt5.core.adapters.metatrader5 import Mt5ModuleTerminal
from services.mt5.core.adapters.mt5linux import Mt5LinuxTerminal
from services.mt5.core.claim_recovery import Settlement, settle_claims
from services.mt5.core.gateway import Publish, TerminalGateway
from services.mt5.core.idempotency import ClientOrderIds
from services.mt5.core.kill_switch import KillSwitch
from services.mt5.core.market_data import MarketData, SeriesLimits
from services.mt5.core.risk_guard import LiveTradingGate, RiskGuard
from services.mt5.core.simulated.broker_store import BrokerStore
from services.mt5.core.simulated.clock import Clock, RealClock, ReplayClock, resumed_replay_start_ms
from services.mt5.core.simulated.terminal import build_simulated_terminal
from services.mt5.core.terminal import Terminal
from services.mt5.core.trading import TradingDesk
from services.mt5.settings import Mt5Settings
from shared.db import sqlite_engine
from shared.disk_full import StorageState
from shared.service_app import SUPERVISOR_PID_ENV
from shared.utils import get_timestamp_ms

DATABASE_FILE = "mt5.db"
KILL_SWITCH_FILE = "mt5_kill_switch.json"
REPLAY_ANCHOR_FILE = "mt5_replay_clock.json"


@dataclass
class Mt5Components:
    """What the routes need, built once per app."""

    gateway: TerminalGateway
    market: MarketData
    desk: TradingDesk
    kill_switch: KillSwitch
    engine: Engine
    client_ids: ClientOrderIds
    claim_slack_ms: int

    async def settle_claims(self) -> Settlement | None:
        """Settle the client order ids a dead process left claimed (at start, once the terminal answers)."""
        if not self.gateway.connected:
            return None
        return await self.gateway.run(
            settle_claims, self.client_ids, self.gateway.terminal, slack_ms=self.claim_slack_ms
        )

    def trading_status(self) -> dict[str, Any]:
        """Mode, live gate, backend, kill switch and risk limits (GET /trading/status and /health)."""
        return {
            "mode": self.desk.gate.mode,
            "live_allowed": self.desk.gate.live_allowed,
            "backend": self.gateway.backend,
            **self.kill_switch.status(),
            "limits": self.desk.guard.limits.model_dump(mode="json"),
        }


def simulated_clock(settings: Mt5Settings) -> Clock:
    """Real time, or a replay from `replay_start` (default: the start-up time) at `replay_speed`, resumed
    where it is after a restart by the same supervisor."""
    sim = settings.mt5.simulated
    if sim.clock == "real":
        return RealClock()
    start_ms = resumed_replay_start_ms(
        settings.data_dir / REPLAY_ANCHOR_FILE,
        sim.replay_start_ms,
        sim.replay_speed,
        os.environ.get(SUPERVISOR_PID_ENV),
    )
    return ReplayClock(start_ms, sim.replay_speed)


def build_terminal(
    settings: Mt5Settings,
    engine: Engine,
    clock: Clock | None = None,
    storage: StorageState | None = None,
) -> tuple[Terminal, Callable[[Terminal], bool] | None]:
    """The configured terminal and the function that connects it (credentials from the environment).

    `clock` replaces the simulated terminal's configured clock (tests drive time by hand); `storage` is
    told when the paper account's database cannot be written (disk full) and when it can again.
    """
    section = settings.mt5
    if section.adapter == "simulated":
        sim = section.simulated
        terminal = build_simulated_terminal(
            sim.symbols,
            clock=clock or simulated_clock(settings),
            store=BrokerStore(engine, storage),
            seed=sim.seed,
            settings=sim.account,
        )
        return terminal, None
    mt = section.metatrader5
    common: dict[str, Any] = {
        "symbol_suffix": mt.symbol_suffix,
        "symbol_map": mt.symbol_map,
        "server_time_offset": mt.server_time_offset_s,
        "probe_symbols": settings.trading.symbols,
    }
    real: Mt5ModuleTerminal
    if section.adapter == "metatrader5":
        real = Mt5ModuleTerminal(**common)
    else:
        bridge = section.mt5linux
        real = Mt5LinuxTerminal(
            host=bridge.host, port=bridge.port, allow_remote=bridge.allow_remote, **common
        )
    secrets = settings.secrets

    def connect(terminal: Terminal) -> bool:
        # The password is unwrapped only here, on its way into the module; it is never kept or logged.
        password = secrets.mt5_password.get_secret_value() if secrets.mt5_password else None
        return terminal.initialize(
            secrets.mt5_path,
            login=secrets.mt5_login,
            password=password,
            server=secrets.mt5_server,
            timeout=mt.timeout_ms,
            portable=mt.portable,
        )

    return real, connect


def build_components(
    settings: Mt5Settings,
    publish: Publish,
    *,
    clock: Clock | None = None,
    storage: StorageState | None = None,
) -> Mt5Components:
    """Terminal, gateway, market data, trading desk and kill switch, persisted under data_dir."""
    section = settings.mt5
    # One SQLite file for the paper account and the client order ids: its own file, so its table names
    # never meet another service's in a shared database.
    engine = sqlite_engine(settings.data_dir / DATABASE_FILE)
    if clock is None and section.adapter == "simulated":
        clock = simulated_clock(settings)
    terminal, connect = build_terminal(settings, engine, clock, storage)
    # Claims are stamped on the market's clock, the one the terminal stamps its orders with.
    client_ids = ClientOrderIds(engine, now_ms=clock.now_ms if clock is not None else get_timestamp_ms)
    gateway = TerminalGateway(
        terminal,
        backend=section.adapter,
        publish=publish,
        connect=connect,
        probe_interval_s=section.probe_interval_s,
        reconnect_initial_s=section.reconnect_initial_s,
        reconnect_max_s=section.reconnect_max_s,
        sync_interval_ms=section.sync_interval_ms,
        tick_event_interval_ms=section.tick_event_interval_ms,
        tick_symbols=section.tick_event_symbols or settings.trading.symbols,
    )
    limits = SeriesLimits(
        max_ticks=section.max_ticks_per_request,
        max_bars=section.max_bars_per_request,
        max_tick_range_days=section.max_tick_range_days,
    )
    guard = RiskGuard(section.risk)
    simulated = section.adapter == "simulated"
    desk = TradingDesk(
        gateway,
        guard=guard,
        gate=LiveTradingGate(settings.trading.mode, settings.secrets.mt5_live_trading_confirm),
        client_ids=client_ids,
        real_terminal=not simulated,
        publish=publish,
        publish_results=not simulated,
        max_price_distance_fraction=section.max_price_distance_fraction,
    )
    return Mt5Components(
        gateway=gateway,
        market=MarketData(gateway, limits),
        desk=desk,
        kill_switch=KillSwitch(settings.data_dir / KILL_SWITCH_FILE, guard, now_ms=get_timestamp_ms),
        engine=engine,
        client_ids=client_ids,
        claim_slack_ms=round(section.client_id_recovery_slack_s * 1000),
    )
