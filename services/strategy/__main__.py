"""Run the strategy service: `python -m services.strategy`."""

from services.strategy.main import create_app
from services.strategy.settings import StrategySettings
from shared.runner import run_service

if __name__ == "__main__":
    run_service("strategy", create_app, StrategySettings)
