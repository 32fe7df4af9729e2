"""The mt5 service: The terminal gateway: simulated MT5 terminal with a paper broker, or a real terminal; symbols, history, orders, positions."""
