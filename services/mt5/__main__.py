"""Run the mt5 service: `python -m services.mt5`."""

from services.mt5.main import create_app
from services.mt5.settings import Mt5Settings
from shared.runner import run_service

if __name__ == "__main__":
    run_service("mt5", create_app, Mt5Settings)
