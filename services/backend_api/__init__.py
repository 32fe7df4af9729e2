"""backend-api: supervises the six other services, proxies their APIs, fans out their events, serves the dashboard."""
