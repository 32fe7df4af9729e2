"""Log redaction: secrets never reach a log file."""

from __future__ import annotations

import logging
from pathlib import Path

from shared.log import RedactingFilter, setup_logging


def test_redacting_filter_masks_known_secrets_and_secret_looking_pairs() -> None:
    f = RedactingFilter(["s3cr3t-value"])
    assert "s3cr3t-value" not in f.redact("login failed with s3cr3t-value")
    masked = f.redact('password=abc123 "api_key": "zzz" Authorization: Bearer tok.en token=qq&x=1')
    for secret in ("abc123", "zzz", "tok.en", "qq"):
        assert secret not in masked
    assert "x=1" in masked


def test_setup_logging_writes_redacted_records_to_the_service_file(tmp_path: Path) -> None:
    log = setup_logging("unit", tmp_path, secrets=["very-secret-pw"])
    try:
        log.info("connecting with very-secret-pw to server")
        try:
            raise ValueError("bad password=very-secret-pw")
        except ValueError:
            log.exception("failed")
    finally:
        logging.shutdown()
    text = (tmp_path / "unit.log").read_text()
    assert "connecting with" in text and "ValueError" in text
    assert "very-secret-pw" not in text
