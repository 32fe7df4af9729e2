"""HTTP routers of the data service; `routers` is the one list main.py mounts."""

from services.data.api import collection, completeness, gap_fill, imports, market_data, statistics

routers = [
    market_data.router,
    collection.router,
    completeness.router,
    gap_fill.router,
    imports.router,
    statistics.router,
]
