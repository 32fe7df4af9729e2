"""Logging: one rotating file per service, with secrets redacted from every record."""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"
# Values after these keys are masked wherever they appear (query strings, headers, JSON, repr of settings).
_SECRET_KEYS = r"(password|passwd|api[_-]?key|token|secret|authorization|x-api-key|x-internal-token)"
_KEY_VALUE = re.compile(
    _SECRET_KEYS + r"""(["']?\s*[:=]\s*["']?|\s+)(Bearer\s+)?([^\s"'&,;}]+)""", re.IGNORECASE
)
# Control characters (tab aside) and Unicode line breaks, as escapes: a client's CR/LF in a path must not
# start a line of its own in the log, forging a record.
_CONTROLS = {
    c: repr(chr(c))[1:-1] if chr(c).isascii() else f"\\u{c:04x}"
    for c in [*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
    if c != 0x09
}


def escape_controls(text: str) -> str:
    r"""`text` on one line: `\r`, `\n`, `\x1b` ... instead of the characters themselves."""
    return text.translate(_CONTROLS)


class RedactingFilter(logging.Filter):
    """Masks known secret values and `key=value` pairs whose key names a secret, and keeps each record's
    message on one line (a traceback, added by the formatter, keeps its lines)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args = escape_controls(self.redact(message)), None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


def setup_logging(
    service: str,
    log_dir: Path,
    *,
    level: str = "INFO",
    max_bytes: int = 10 * 1024 * 1024,
    backup_count: int = 5,
    secrets: Iterable[str] = (),
    console: bool = False,
) -> logging.Logger:
    """Route the root logger to `log_dir/<service>.log` (rotating), redacting `secrets`; returns the service logger."""
    log_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    redactor = RedactingFilter(secrets)
    handlers: list[logging.Handler] = [
        logging.handlers.RotatingFileHandler(
            log_dir / f"{service}.log", maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
        )
    ]
    if console:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(logging.Formatter(_FORMAT))
        handler.addFilter(redactor)
        root.addHandler(handler)
    root.setLevel(level)
    # uvicorn's loggers propagate to root so they land in the same file, redacted.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return logging.getLogger(service)
