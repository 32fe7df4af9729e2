"""Run the backtesting service: `python -m services.backtesting`."""

from services.backtesting.main import create_app
from services.backtesting.settings import BacktestingSettings
from shared.runner import run_service

if __name__ == "__main__":
    run_service("backtesting", create_app, BacktestingSettings)
