"""The simulated terminal: a deterministic market, its clocks, and the paper broker trading on it."""
