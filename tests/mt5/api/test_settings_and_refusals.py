"""The mt5 section of config.json, and the documented retcode -> HTTP status contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.mt5.core.trading import http_status_of, retcode_name
from services.mt5.settings import Mt5Settings
from shared.config import ConfigError, load_config
from shared.market import mt5_constants as mt5
from tests.support.platform import PROJECT_ROOT, write_config

R = mt5.TradeRetcode


def test_committed_config_loads_with_a_simulated_default() -> None:
    settings = load_config(PROJECT_ROOT / "config.json", model=Mt5Settings)
    section = settings.mt5
    assert (section.adapter, section.simulated.clock) == ("simulated", "real")
    # A new user is protected by the shipped risk limits, not only by the paper account.
    assert section.risk.max_volume_per_order == 10.0 and section.risk.max_open_positions == 100
    assert [s.name for s in section.simulated.symbols] == ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"]


@pytest.mark.parametrize(
    ("mt5_section", "key"),
    [
        ({"mt5linux": {"host": "10.0.0.5"}}, "mt5.mt5linux"),
        ({"adapter": "wine"}, "mt5.adapter"),
        ({"simulated": {"replay_start": "last tuesday"}}, "mt5.simulated.replay_start"),
        ({"risk": {"max_volume_per_order": -1}}, "mt5.risk.max_volume_per_order"),
        ({"reconnect_initial_s": 90}, "mt5"),
    ],
)
def test_invalid_mt5_setting_is_refused_naming_the_key(
    tmp_path: Path, mt5_section: dict[str, object], key: str
) -> None:
    path = write_config(tmp_path, replace={"mt5": mt5_section})
    with pytest.raises(ConfigError, match=rf"\b{key}\b"):
        load_config(path, model=Mt5Settings)


def test_mt5linux_remote_host_is_accepted_only_when_allowed(tmp_path: Path) -> None:
    path = write_config(tmp_path, replace={"mt5": {"mt5linux": {"host": "10.0.0.5", "allow_remote": True}}})
    assert load_config(path, model=Mt5Settings).mt5.mt5linux.host == "10.0.0.5"


@pytest.mark.parametrize(
    ("retcode", "status"),
    [
        (R.INVALID, 422),
        (R.INVALID_VOLUME, 422),
        (R.INVALID_PRICE, 422),
        (R.INVALID_STOPS, 422),
        (R.INVALID_FILL, 422),
        (R.MARKET_CLOSED, 409),
        (R.NO_MONEY, 409),
        (R.REQUOTE, 409),
        (R.POSITION_CLOSED, 409),
        (R.CLIENT_DISABLES_AT, 403),
        (R.TOO_MANY_REQUESTS, 429),
        (R.CONNECTION, 503),
        (R.TIMEOUT, 503),
    ],
)
def test_refusal_status_follows_the_documented_mapping(retcode: int, status: int) -> None:
    assert http_status_of(retcode) == status


def test_retcode_name_covers_unknown_codes() -> None:
    assert (retcode_name(10014), retcode_name(12345)) == ("INVALID_VOLUME", "UNKNOWN_12345")
