"""Entry point shared by every `python -m services.<name>`: load settings, set up logging, run uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import os
import sys
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from shared.config import ConfigError, PlatformSettings, load_config, resolve_api_key, resolve_internal_token
from shared.http_protocol import with_head_timeout
from shared.log import setup_logging
from shared.memory import keep_freed_memory
from shared.ws_protocol import ResettingWebSocketProtocol

PORT_ENV = "MT5P_PORT"
HOST_ENV = "MT5P_HOST"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def known_secrets(settings: PlatformSettings) -> list[str]:
    """Every secret value this process may hold, so the log filter can mask it wherever it appears."""
    values = [resolve_internal_token(settings)]
    s = settings.secrets
    declared = (s.api_key, s.mt5_password, s.database_url, s.notify_webhook_url)
    alerts = (s.alerts_webhook_secret, s.alerts_telegram_bot_token, s.alerts_smtp_password)
    values += [v.get_secret_value() for v in (*declared, *alerts) if v]
    if (settings.data_dir / ".api_key").is_file():
        values.append(resolve_api_key(settings))
    return values


S = TypeVar("S", bound=PlatformSettings)


def run_service(
    name: str,
    create_app: Callable[[S], FastAPI],
    settings_model: type[S] = PlatformSettings,  # type: ignore[assignment]
) -> None:
    """Run one service until SIGTERM/SIGINT. Exit code 2 on a configuration error, naming the key."""
    try:
        settings = load_config(model=settings_model)
    except ConfigError as exc:
        print(f"{name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    section = settings.service(name)
    host = os.environ.get(HOST_ENV, section.host)
    port = int(os.environ.get(PORT_ENV, section.port))
    log = setup_logging(
        name,
        settings.log_dir,
        level=settings.system.log_level,
        max_bytes=settings.system.log_max_bytes,
        backup_count=settings.system.log_backup_count,
        secrets=known_secrets(settings),
    )
    if not is_loopback(host):
        if not settings.system.allow_remote_bind:
            print(
                f"{name}: refusing to bind {host}: set system.allow_remote_bind to expose it", file=sys.stderr
            )
            raise SystemExit(2)
        banner = f"WARNING: {name} listens on {host}:{port}, reachable beyond this machine. Protect it."
        log.warning(banner)
        print(banner, file=sys.stderr)
    keep_freed_memory()
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
        ws=ResettingWebSocketProtocol,
        ws_ping_interval=None,  # the event stream sends its own heartbeats
        http=with_head_timeout(settings.system.request_head_timeout_s),
        limit_concurrency=settings.system.max_concurrency,
        # Compression would deflate every event once per client, the hub's dominant cost in a flood.
        ws_per_message_deflate=settings.monitoring.ws_compression,
    )
    logging.shutdown()
