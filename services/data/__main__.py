"""Run the data service: `python -m services.data`."""

from services.data.main import create_app
from services.data.settings import DataSettings
from shared.runner import run_service

if __name__ == "__main__":
    run_service("data", create_app, DataSettings)
