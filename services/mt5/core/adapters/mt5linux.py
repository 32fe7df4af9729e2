"""The real terminal under Wine through the `mt5linux` rpyc bridge: the MetaTrader5 adapter, another module.

The bridge's server hands whoever connects full control of the Windows Python, so only a loopback host
is accepted unless `allow_remote` says the network in between is trusted.
"""

from __future__ import annotations

import importlib
import ipaddress
from collections.abc import Callable
from typing import Any

from services.mt5.core.adapters.metatrader5 import Mt5ModuleTerminal

DEFAULT_PORT = 18812


def is_loopback(host: str) -> bool:
    """True for "localhost" and loopback IP literals; other names are not resolved, so never trusted."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _import_bridge(host: str, port: int) -> Any:
    return importlib.import_module("mt5linux").MetaTrader5(host=host, port=port)


class Mt5LinuxTerminal(Mt5ModuleTerminal):
    """Mt5ModuleTerminal over an `mt5linux.MetaTrader5(host, port)` connection, opened on first use."""

    module_name = "mt5linux"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        allow_remote: bool = False,
        bridge_factory: Callable[[str, int], Any] = _import_bridge,
        **adapter_settings: Any,
    ) -> None:
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"mt5linux host {host!r} is not a loopback address: an rpyc bridge gives whoever reaches "
                "it full control of the Windows Python. Keep the bridge on 127.0.0.1, or set "
                "allow_remote = true only behind a trusted tunnel."
            )
        super().__init__(**adapter_settings)
        self.host = host
        self.port = port
        self._bridge_factory = bridge_factory

    def _load_module(self) -> Any:
        return self._bridge_factory(self.host, self.port)
