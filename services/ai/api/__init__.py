"""HTTP routers of the ai service."""

from services.ai.api import models, training

routers = [training.router, models.router]
