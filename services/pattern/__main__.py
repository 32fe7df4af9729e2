"""Run the pattern service: `python -m services.pattern`."""

from services.pattern.main import create_app
from services.pattern.settings import PatternSettings
from shared.runner import run_service

if __name__ == "__main__":
    run_service("pattern", create_app, PatternSettings)
