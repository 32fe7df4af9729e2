"""The strategy service's routers, mounted by main.create_app."""

from services.strategy.api import strategies

routers = [strategies.router]
