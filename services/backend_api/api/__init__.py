"""HTTP routers of backend-api; `routers` is the one list main.py mounts, in order."""

from services.backend_api.api import alerts, docs, events, gateway, services

routers = [
    services.router,
    events.router,
    alerts.router,
    docs.router,
    gateway.router,
]  # docs before the proxy's catch-all
