"""Domain logic of the pattern service: catalog, spec parsing, computation and pattern detection."""
