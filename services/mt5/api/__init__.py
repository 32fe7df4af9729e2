"""The mt5 service's routers, mounted in this order by main.create_app."""

from services.mt5.api import clock, history, market, orders, positions, symbols, terminal, trading

routers = [
    terminal.router,
    clock.router,
    symbols.router,
    market.router,
    orders.router,
    positions.router,
    history.router,
    trading.router,
]
