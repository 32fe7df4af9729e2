"""docker-compose.yml and the image's container config: valid, complete, and loadable by every service."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.ai.settings import AiSettings
from services.backtesting.settings import BacktestingSettings
from services.data.settings import DataSettings
from services.mt5.settings import Mt5Settings
from services.pattern.settings import PatternSettings
from services.strategy.settings import StrategySettings
from shared.config import SERVICE_NAMES, PlatformSettings, load_config
from shared.runner import HOST_ENV, PORT_ENV

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
CONTAINER_CONFIG = ROOT / "deploy" / "config.container.json"
# What the user puts in .env; compose refuses to start without them.
REQUIRED_ENV = {"API_KEY": "gateway-key", "MT5P_INTERNAL_TOKEN": "internal-token", "POSTGRES_PASSWORD": "pw"}
SETTINGS: dict[str, type[PlatformSettings]] = {
    "backend-api": PlatformSettings,
    "data": DataSettings,
    "mt5": Mt5Settings,
    "pattern": PatternSettings,
    "strategy": StrategySettings,
    "ai": AiSettings,
    "backtesting": BacktestingSettings,
}
_VARIABLE = re.compile(r"\$\{(\w+)(?::[-?]([^}]*))?\}")


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return loaded


def interpolate(value: str) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}` with REQUIRED_ENV as the .env."""

    def one(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in REQUIRED_ENV:
            return REQUIRED_ENV[name]
        assert match.group(0).startswith(f"${{{name}:-"), f"{name} has no default and is not documented"
        return default or ""

    return _VARIABLE.sub(one, value)


def test_compose_config_validates_with_docker_compose(tmp_path: Path) -> None:
    tool = shutil.which("docker-compose")
    if tool is None and os.environ.get("CI") != "true":  # on CI run_tests.sh installs it: missing fails
        pytest.skip("docker-compose missing (run_tests.sh installs Debian's docker-compose as root)")
    assert tool is not None
    env = {**os.environ, **REQUIRED_ENV}
    result = subprocess.run(
        [tool, "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # no .env here: the values above are the only ones
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    missing = subprocess.run(
        [tool, "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k not in REQUIRED_ENV},
        cwd=tmp_path,
        timeout=120,
    )
    assert missing.returncode != 0
    assert "in .env" in missing.stderr


def test_compose_has_postgres_and_every_service_with_health_and_restart() -> None:
    services = compose()["services"]

    assert set(services) == {"postgres", *SERVICE_NAMES}
    for name, service in services.items():
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert services["postgres"]["image"].startswith("postgres:")
    for name in SERVICE_NAMES:
        assert services[name]["command"] == ["python", "-m", f"services.{name.replace('-', '_')}"]


def test_compose_depends_on_waits_for_healthy_dependencies() -> None:
    services = compose()["services"]

    assert services["data"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    gateway = services["backend-api"]["depends_on"]
    assert set(gateway) == set(SERVICE_NAMES) - {"backend-api"}
    for service in services.values():
        for dependency in service.get("depends_on", {}).values():
            assert dependency == {"condition": "service_healthy"}


def test_compose_only_the_gateway_is_published() -> None:
    services = compose()["services"]

    assert [name for name, s in services.items() if s.get("ports")] == ["backend-api"]


def _container_settings(name: str, monkeypatch: pytest.MonkeyPatch) -> PlatformSettings:
    """The settings `python -m services.<name>` loads inside its container: image config + compose env."""
    for key in list(os.environ):
        if key.startswith("MT5P_") or key in ("API_KEY", "DATABASE_URL"):
            monkeypatch.delenv(key)
    monkeypatch.setenv(HOST_ENV, "0.0.0.0")  # the image's ENV
    for key, value in compose()["services"][name]["environment"].items():
        monkeypatch.setenv(key, interpolate(str(value)))
    return load_config(CONTAINER_CONFIG, model=SETTINGS[name])


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_each_container_loads_its_settings_and_may_bind_all_interfaces(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _container_settings(name, monkeypatch)

    assert settings.system.allow_remote_bind
    assert int(os.environ[PORT_ENV]) == settings.service(name).port
    for peer in SERVICE_NAMES[1:]:
        section = settings.service(peer)
        assert section.base_url == f"http://{peer}:{section.port}"


def test_backend_api_container_is_external_with_every_service_url(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _container_settings("backend-api", monkeypatch)

    assert settings.orchestrator.mode == "external"
    assert all(settings.service(peer).url for peer in SERVICE_NAMES[1:])
    assert settings.secrets.api_key is not None
    assert settings.secrets.api_key.get_secret_value() == REQUIRED_ENV["API_KEY"]


def test_data_container_uses_postgres_through_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _container_settings("data", monkeypatch)

    assert settings.database_url == "postgresql+psycopg://mt5:pw@postgres:5432/mt5"
    assert os.environ["MT5P_INTERNAL_TOKEN"] == REQUIRED_ENV["MT5P_INTERNAL_TOKEN"]


def test_image_default_config_runs_everything_in_one_container() -> None:
    settings: PlatformSettings = load_config(CONTAINER_CONFIG)

    assert settings.orchestrator.mode == "spawn"
    assert {s.host for s in settings.services.values()} == {"0.0.0.0"}
    assert settings.data_dir == Path("/var/lib/mt5p/database")


def test_dockerfile_runs_as_non_root_with_health_check_and_container_config() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert dockerfile.startswith("# ") and "FROM python:3.11-slim" in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
    assert "MT5P_CONFIG=/app/deploy/config.container.json" in dockerfile
    assert re.search(r"^EXPOSE 5000 5001 5002 5003 5004 5005 5006$", dockerfile, re.M)
    assert "RUN python scripts/fetch_dashboard_assets.py" in dockerfile  # the dashboard's charts
