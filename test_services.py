#!/usr/bin/env python3
"""Health report of all seven services (the same as `mt5p status`); see launcher/health.py."""

from launcher.health import main

if __name__ == "__main__":
    raise SystemExit(main())
