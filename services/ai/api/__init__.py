"""HTTP routers of the ai service."""
