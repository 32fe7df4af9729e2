"""The strategy service: Live strategy instances on closed candles, risk manager, order placement, position tracking."""
