"""Run the ai service: `python -m services.ai`."""

from services.ai.main import create_app
from services.ai.settings import AiSettings
from shared.runner import run_service

if __name__ == "__main__":
    run_service("ai", create_app, AiSettings)
