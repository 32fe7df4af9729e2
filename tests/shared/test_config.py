"""Settings: config.json + environment, errors that name the key and the file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from shared.config import ConfigError, get_service_config, load_config, resolve_api_key
from tests.support.platform import write_config


def test_config_loads_defaults_and_resolves_paths_beside_the_file(tmp_path: Path) -> None:
    settings = load_config(write_config(tmp_path))
    assert settings.trading.mode == "paper"
    assert settings.data_dir == tmp_path / "database"
    assert settings.log_dir == tmp_path / "logs"
    assert get_service_config("mt5", settings).module == "services.mt5"


def test_config_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path)
    monkeypatch.setenv("MT5P_ORCHESTRATOR__HEALTH_INTERVAL_S", "1.5")
    settings = load_config(config)
    assert settings.orchestrator.health_interval_s == 1.5
    assert settings.orchestrator.stop_timeout_s == 5  # the rest of the section still comes from the file


def test_config_invalid_value_names_key_and_file(tmp_path: Path) -> None:
    config = write_config(tmp_path, overrides={"trading": {"timeframes": ["M1", "M7"]}})
    with pytest.raises(ConfigError) as err:
        load_config(config)
    assert str(config) in str(err.value) and "trading.timeframes" in str(err.value) and "M7" in str(err.value)


def test_config_unknown_key_in_a_section_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path, overrides={"orchestrator": {"health_intervall_s": 3}})
    with pytest.raises(ConfigError, match=r"orchestrator\.health_intervall_s"):
        load_config(config)


def test_config_missing_service_and_missing_file_are_reported(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    data = json.loads(config.read_text())
    del data["services"]["mt5"]
    config.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="missing service entries: mt5"):
        load_config(config)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.json")


def test_config_api_key_generated_once_in_a_private_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("API_KEY", raising=False)
    settings = load_config(write_config(tmp_path))
    key = resolve_api_key(settings)
    path = settings.data_dir / ".api_key"
    assert len(key) >= 32 and resolve_api_key(settings) == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_config_secrets_come_from_env_and_never_print(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MT5_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("API_KEY", "key-from-env-123")
    settings = load_config(write_config(tmp_path))
    assert resolve_api_key(settings) == "key-from-env-123"
    assert settings.secrets.mt5_password is not None
    assert settings.secrets.mt5_password.get_secret_value() == "hunter2-secret"
    assert "hunter2-secret" not in repr(settings) and "key-from-env-123" not in repr(settings)


def test_config_env_file_copied_from_example_unchanged_loads(tmp_path: Path) -> None:
    from shared.config import PROJECT_ROOT

    config = write_config(tmp_path)
    (tmp_path / ".env").write_text((PROJECT_ROOT / ".env.example").read_text())
    settings = load_config(config)
    assert settings.secrets.mt5_login is None and settings.secrets.api_key is None
