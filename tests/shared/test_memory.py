"""Services ask glibc to keep freed memory for their next bulk response."""

from __future__ import annotations

import platform
import sys

import pytest

from shared.memory import keep_freed_memory


@pytest.mark.skipif(
    not (sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"), reason="glibc only"
)
def test_glibc_accepts_the_top_pad() -> None:
    assert keep_freed_memory() is True
