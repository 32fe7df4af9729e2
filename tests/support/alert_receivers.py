"""Local stand-ins for the alert channels' far ends: an HTTP receiver (webhook, Telegram's Bot API) and an
SMTP server with STARTTLS (aiosmtpd, a self-signed certificate made with the openssl command)."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.platform import free_ports


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Records every POST; answers with `answers` in turn (the last one repeats)."""

    answers: list[tuple[int, dict[str, Any]]] = field(default_factory=lambda: [(200, {"ok": True})])
    received: list[Received] = field(default_factory=list)
    url: str = ""


@contextmanager
def http_receiver(answers: list[tuple[int, dict[str, Any]]] | None = None) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(answers or [(200, {"ok": True})])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                index = min(len(receiver.received), len(receiver.answers) - 1)
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
            status, answer = receiver.answers[index]
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key (the `cryptography` package is not installed here)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class SmtpReceiver:
    port: int = 0
    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    tls_sessions: int = 0


@contextmanager
def smtp_receiver(cert: Path, key: Path, *, user: str, password: str) -> Iterator[SmtpReceiver]:
    """An SMTP server that requires STARTTLS and, over it, a login with `user`/`password`."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    receiver = SmtpReceiver(port=free_ports(1)[0])

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            receiver.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
            if session.ssl is not None:
                receiver.tls_sessions += 1
            return "250 OK"

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == (
            user,
            password,
        )
        if ok:
            receiver.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=receiver.port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()
