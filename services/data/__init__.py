"""The data service: tick and bar storage, on-the-fly collection, tick→bar conversion, gap fill, import."""
