"""The fuzzed services: each real app on one temp config, served in this process (dependencies included)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from shared.config import PlatformSettings, load_config, resolve_api_key, resolve_internal_token
from tests.support.platform import write_config
from tests.support.served_app import ServedApp


@dataclass(frozen=True)
class FuzzedService:
    """A service by name, and its settings class as "module:Class"."""

    name: str
    settings_class: str

    def build(self, config: Path) -> FastAPI:
        """The service's real app on `config`, imported only now: a broken service fails its own tests only."""
        module, _, cls = self.settings_class.partition(":")
        settings = load_config(config, model=getattr(importlib.import_module(module), cls))
        package = "services." + self.name.replace("-", "_")
        app: FastAPI = importlib.import_module(f"{package}.main").create_app(settings)
        return app


# Dependencies first: data reads from mt5; pattern, backtesting and ai from data; strategy from mt5 and data;
# backend-api follows them all. The fuzz tests pick every entry up.
SERVICES = [
    FuzzedService("mt5", "services.mt5.settings:Mt5Settings"),
    FuzzedService("data", "services.data.settings:DataSettings"),
    FuzzedService("pattern", "services.pattern.settings:PatternSettings"),
    FuzzedService("backtesting", "services.backtesting.settings:BacktestingSettings"),
    FuzzedService("strategy", "services.strategy.settings:StrategySettings"),
    FuzzedService("ai", "services.ai.settings:AiSettings"),
    FuzzedService("backend-api", "services.backend_api.settings:BackendSettings"),
]

# Bounds that keep fuzzed requests and jobs small on a 2-core machine; the behaviour under test is the same.
FUZZ_OVERRIDES: dict[str, Any] = {
    "orchestrator": {"mode": "external"},
    "data": {"limits": {"max_bars_per_request": 5_000, "max_ticks_per_request": 5_000, "max_range_days": 2}},
    "backtesting": {"workers": 1, "optimize_workers": 1, "max_combinations": 50, "progress_interval_s": 0},
    "pattern": {"live": {"enabled": False}, "max_bars": 5_000},
    "ai": {"workers": 1, "max_train_bars": 5_000, "max_predict_bars": 5_000},
}


class ServedPlatform:
    """The fuzzed services on their configured ports, started on demand with every service listed before them."""

    def __init__(self, config: Path) -> None:
        self.config = config
        settings = load_config(config, model=PlatformSettings)
        self.settings = settings
        child = {"X-Internal-Token": resolve_internal_token(settings)}
        self.headers = {s.name: child for s in SERVICES} | {
            "backend-api": {"X-API-Key": resolve_api_key(settings)}
        }
        self.apps: dict[str, ServedApp] = {}

    def serve(self, name: str) -> ServedApp:
        """`name` listening, with the services it may call (those before it in SERVICES) started first."""
        for service in SERVICES:
            if service.name not in self.apps:
                port = self.settings.service(service.name).port
                self.apps[service.name] = ServedApp(service.name, service.build(self.config), port).start()
            if service.name == name:
                return self.apps[name]
        raise KeyError(name)

    def stop(self) -> None:
        for app in reversed(self.apps.values()):
            app.stop()


@pytest.fixture(scope="session")
def served_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedPlatform]:
    platform = ServedPlatform(write_config(tmp_path_factory.mktemp("fuzz"), overrides=FUZZ_OVERRIDES))
    try:
        yield platform
    finally:
        platform.stop()
