"""mt5p, the platform's command line: start, stop, status, logs and test, the same on every OS."""
