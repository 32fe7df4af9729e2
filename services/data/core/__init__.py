"""Domain logic of the data service (no HTTP): stores, incremental bars, completeness, gap plans, CSV."""
