"""Is a TCP port free to listen on: the same answer on every OS."""

from __future__ import annotations

import errno
import socket
import sys


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port (binds a probe socket, as the child would)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":
            # POSIX: ignore sockets of a stopped child lingering in TIME_WAIT, as uvicorn does. On Windows
            # SO_REUSEADDR would let the probe bind over a live listener, so it is left out there.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True
