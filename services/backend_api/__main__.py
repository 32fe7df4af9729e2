"""Run backend-api: `python -m services.backend_api` (it starts the six other services)."""

from services.backend_api.main import create_app
from services.backend_api.settings import BackendSettings
from shared.runner import run_service

if __name__ == "__main__":
    run_service("backend-api", create_app, BackendSettings)
