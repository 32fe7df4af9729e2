"""Market definitions shared by every service: MT5 constants, record shapes, timeframes, symbols, calendar."""
