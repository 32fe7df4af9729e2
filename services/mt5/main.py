"""The mt5 service's app: the terminal gateway (simulated terminal with a paper broker, or a real one)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from services.mt5.api import routers
from services.mt5.core.adapters.metatrader5 import Mt5ModuleTerminal
from services.mt5.core.adapters.mt5linux import Mt5LinuxTerminal
from services.mt5.core.claim_recovery import settle_claims
from services.mt5.core.gateway import TerminalGateway
from services.mt5.core.idempotency import ClientOrderIds
from services.mt5.core.kill_switch import KillSwitch
from services.mt5.core.market_data import MarketData, SeriesLimits
from services.mt5.core.market_world import MarketWorld
from services.mt5.core.risk_guard import LiveTradingGate, RiskGuard
from services.mt5.core.simulated.broker_store import BrokerStore
from services.mt5.core.simulated.clock import (
    Clock,
    RealClock,
    ReplayClock,
    replay_held_ms,
    replay_held_saver,
    replay_origin_ms,
    resumed_replay_start_ms,
)
from services.mt5.core.simulated.holds import HeldClock, first_tick_of
from services.mt5.core.simulated.market import DeterministicMarket
from services.mt5.core.simulated.terminal import build_simulated_terminal
from services.mt5.core.terminal import Terminal
from services.mt5.core.terminal_activity import TerminalActivity
from services.mt5.core.trading import TradingDesk, trading_status
from services.mt5.settings import Mt5Settings
from shared.db import sqlite_engine
from shared.disk_full import StorageState
from shared.market.world import REAL_TIME, replay_world, world_dir
from shared.service_app import SUPERVISOR_PID_ENV, create_service_app
from shared.utils import get_timestamp_ms

DATABASE_FILE = "mt5.db"
KILL_SWITCH_FILE = "mt5_kill_switch.json"
REPLAY_ANCHOR_FILE = "mt5_replay_clock.json"
ACTIVITY_MARK_FILE = "mt5_terminal_deals.json"
DESCRIPTION = (
    "The terminal gateway: a simulated MT5 terminal with a paper broker, or a real terminal "
    "(MetaTrader5, mt5linux); symbols, ticks and bars, orders and positions behind a risk guard."
)


def market_world(
    settings: Mt5Settings, clock: Clock | None = None, market: DeterministicMarket | None = None
) -> MarketWorld:
    """The market's world and clock: real time, or a replay from `replay_start` (default: the start-up
    time) at `replay_speed`, resumed where it is after a restart by the same supervisor, that holds at the
    new bars of the streams strategies register (holds.py; `market` is the simulated terminal's, where the
    holds find their ticks). `clock` replaces the configured one (tests move time by hand); a real
    terminal's market runs on real time."""
    sim = settings.mt5.simulated
    if settings.mt5.adapter != "simulated" or sim.clock == "real":
        return MarketWorld(REAL_TIME, "real", clock or RealClock())
    anchor = settings.data_dir / REPLAY_ANCHOR_FILE
    on_held, held_before_ms = None, 0
    if clock is None:
        run_id = os.environ.get(SUPERVISOR_PID_ENV)
        start_ms = resumed_replay_start_ms(anchor, sim.replay_start_ms, sim.replay_speed, run_id)
        clock = ReplayClock(start_ms, sim.replay_speed)
        origin_ms = replay_origin_ms(anchor, sim.replay_start_ms, start_ms)
        if run_id is not None:
            held_before_ms = replay_held_ms(anchor)
            on_held = replay_held_saver(anchor, held_before_ms)
    else:
        origin_ms = sim.replay_start_ms if sim.replay_start_ms is not None else clock.now_ms()
    holds = None
    if market is not None:
        holds = HeldClock(
            clock,
            symbols=[s.name for s in sim.symbols],
            speed=sim.replay_speed,
            first_tick=first_tick_of(market),
            timeout_s=sim.replay_hold_timeout_s,
            lease_s=sim.replay_hold_lease_s,
            on_held=on_held,
            held_before_ms=held_before_ms,
        )
    return MarketWorld(
        replay_world(origin_ms, sim.seed),
        "replay",
        holds or clock,
        replay_start_ms=origin_ms,
        replay_speed=sim.replay_speed,
        holds=holds,
    )


def build_terminal(
    settings: Mt5Settings,
    engine: Engine,
    clock: Clock,
    storage: StorageState | None = None,
    market: DeterministicMarket | None = None,
) -> tuple[Terminal, Callable[[Terminal], bool] | None]:
    """The configured terminal and the function that connects it (credentials from the environment).

    `clock` is the simulated terminal's market clock and `market` its market (None: its own); `storage`
    is told when the paper account's database cannot be written (disk full) and when it can again.
    """
    section = settings.mt5
    if section.adapter == "simulated":
        sim = section.simulated
        terminal = build_simulated_terminal(
            sim.symbols,
            clock=clock,
            store=BrokerStore(engine, storage),
            seed=sim.seed,
            settings=sim.account,
            market=market,
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


async def _health_checks(app: FastAPI) -> dict[str, Any]:
    gateway: TerminalGateway | None = getattr(app.state, "gateway", None)
    if gateway is None:
        return {"terminal": {"ok": False, "state": "starting"}}
    status = trading_status(app.state.desk, app.state.kill_switch)
    return {"terminal": gateway.status(), "trading": {"ok": True, **status}}


def create_app(settings: Mt5Settings, *, clock: Clock | None = None) -> FastAPI:
    """The mt5 service: the lifespan builds the terminal and its gateway, connects and starts publishing.

    `clock` overrides the simulated terminal's configured clock (tests move time by hand).
    """
    section = settings.mt5

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        publish = app.state.bus.publish_threadsafe
        sim = section.simulated
        # One market for the simulated terminal and the replay clock's holds, which look up its ticks.
        market = DeterministicMarket(sim.symbols, seed=sim.seed) if section.adapter == "simulated" else None
        world = market_world(settings, clock, market)
        # One SQLite file for the paper account and the client order ids: its own file, so its table names
        # never meet another service's in a shared database; one per market world, so a replay's positions
        # never meet real time's prices (and switching back finds the real-time account as it was).
        db_dir = world_dir(settings.data_dir, world.world)
        db_dir.mkdir(parents=True, exist_ok=True)
        engine = sqlite_engine(db_dir / DATABASE_FILE)
        terminal, connect = build_terminal(settings, engine, world.clock, app.state.storage, market)
        # Claims are stamped on the market's clock, the one the terminal stamps its orders with.
        client_ids = ClientOrderIds(engine, now_ms=world.now_ms)
        simulated = section.adapter == "simulated"
        # A real terminal's positions closed there and trades made outside the platform become events
        # by comparing looks; the paper broker publishes its own.
        activity = (
            None
            if simulated
            else TerminalActivity(terminal, mark_path=db_dir / ACTIVITY_MARK_FILE, now_ms=world.now_ms)
        )
        gateway = TerminalGateway(
            terminal,
            backend=section.adapter,
            publish=publish,
            connect=connect,
            probe_interval_s=section.probe_interval_s,
            reconnect_initial_s=section.reconnect_initial_s,
            reconnect_max_s=section.reconnect_max_s,
            sync=activity.sync if activity is not None else None,
            sync_interval_ms=(
                section.sync_interval_ms if simulated else section.metatrader5.activity_interval_ms
            ),
            tick_event_interval_ms=section.tick_event_interval_ms,
            tick_symbols=section.tick_event_symbols or settings.trading.symbols,
        )
        limits = SeriesLimits(
            max_ticks=section.max_ticks_per_request,
            max_bars=section.max_bars_per_request,
            max_tick_range_days=section.max_tick_range_days,
        )
        guard = RiskGuard(section.risk)
        desk = TradingDesk(
            gateway,
            guard=guard,
            gate=LiveTradingGate(settings.trading.mode, settings.secrets.mt5_live_trading_confirm),
            client_ids=client_ids,
            real_terminal=not simulated,
            publish=publish,
            publish_refusals=not simulated,
            max_price_distance_fraction=section.max_price_distance_fraction,
        )
        kill_switch = KillSwitch(settings.data_dir / KILL_SWITCH_FILE, guard, now_ms=get_timestamp_ms)
        await gateway.start()
        # Settle the client order ids a dead process left claimed, once the terminal answers.
        if gateway.connected:
            slack_ms = round(section.client_id_recovery_slack_s * 1000)
            await gateway.run(settle_claims, client_ids, gateway.terminal, slack_ms=slack_ms)
        app.state.world = world
        app.state.gateway = gateway
        app.state.market = MarketData(gateway, limits)
        app.state.desk = desk
        app.state.kill_switch = kill_switch
        try:
            yield
        finally:
            await gateway.aclose()
            engine.dispose()
            if world.holds is not None:
                world.holds.report_held()

    return create_service_app(
        "mt5",
        settings,
        routers=routers,
        lifespan=lifespan,
        health_checks=_health_checks,
        description=DESCRIPTION,
    )
