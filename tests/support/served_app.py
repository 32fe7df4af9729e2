"""An app served by uvicorn in a background thread on a real port: a service's own app, or a stand-in."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI


class ServedApp:
    """One app listening on 127.0.0.1:`port` from `start` (or `with`) until `stop` (its lifespan runs as
    under the real runner)."""

    def __init__(self, name: str, app: FastAPI, port: int) -> None:
        self.name = name
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, ws_ping_interval=None)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=f"served-{name}", daemon=True)

    def start(self, timeout_s: float = 20.0) -> ServedApp:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"{self.name} did not start on {self.url}")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(15)

    def __enter__(self) -> ServedApp:
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()
