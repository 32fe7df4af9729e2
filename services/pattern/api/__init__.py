"""The pattern service's HTTP layer: thin routers over `services.pattern.core`."""
