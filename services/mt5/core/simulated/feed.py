"""What the simulated terminal reads off the market at the clock's now: quotes, hours, symbol records."""

from __future__ import annotations

from services.mt5.core.simulated.clock import Clock
from services.mt5.core.simulated.market import DeterministicMarket
from shared.market.records import SymbolInfo, TerminalInfo, Tick
from shared.market.symbols import SymbolSpec

SIMULATED_BUILD = 5000
_SYMBOL_TRADE_EXECUTION_MARKET = 2
# Market, limit, stop, SL, TP and close-by orders; the paper broker offers no stop-limit orders.
_ORDER_MODE = 1 | 2 | 4 | 16 | 32 | 64
_EXPIRATION_MODE = 1 | 2 | 4 | 8  # GTC, DAY, SPECIFIED, SPECIFIED_DAY


class MarketFeed:
    """The market as seen at the clock's now: the quotes and market hours the paper broker reads."""

    def __init__(self, market: DeterministicMarket, clock: Clock) -> None:
        self.market = market
        self.clock = clock

    def quote(self, symbol: str) -> Tick | None:
        """The latest tick at or before now."""
        row = self.market.last_tick(symbol, self.clock.now_ms() + 1)
        return None if row is None else Tick(*row.item())

    def is_open(self, symbol: str, t_ms: int) -> bool:
        """True when `symbol` trades at epoch millisecond `t_ms`."""
        return self.market.calendar.is_open(t_ms // 1000)


def simulated_symbol_info(spec: SymbolSpec, tick: Tick | None, tick_value: float) -> SymbolInfo:
    """MT5's SymbolInfo for a simulated symbol, carrying the live quote when there is one."""
    bid, ask, time_s = (tick.bid, tick.ask, tick.time) if tick else (0.0, 0.0, 0)
    return SymbolInfo(
        name=spec.name,
        description=spec.description,
        path=spec.path,
        digits=spec.digits,
        point=spec.point,
        spread=round((ask - bid) / spec.point) if tick else spec.spread_points,
        spread_float=True,
        trade_contract_size=spec.contract_size,
        trade_tick_value=tick_value,
        trade_tick_size=spec.trade_tick_size,
        volume_min=spec.volume_min,
        volume_max=spec.volume_max,
        volume_step=spec.volume_step,
        trade_stops_level=spec.stops_level,
        trade_freeze_level=0,
        trade_mode=spec.trade_mode,
        trade_exemode=_SYMBOL_TRADE_EXECUTION_MARKET,
        filling_mode=spec.filling_mode,
        order_mode=_ORDER_MODE,
        expiration_mode=_EXPIRATION_MODE,
        swap_long=spec.swap_long,
        swap_short=spec.swap_short,
        currency_base=spec.currency_base,
        currency_profit=spec.currency_profit,
        currency_margin=spec.currency_margin,
        bid=bid,
        ask=ask,
        last=0.0,
        time=time_s,
        visible=True,
        select=True,
    )


def simulated_terminal_info(*, connected: bool, trade_allowed: bool, company: str) -> TerminalInfo:
    """MT5's TerminalInfo for the simulated terminal."""
    return TerminalInfo(
        community_account=False,
        community_connection=False,
        connected=connected,
        dlls_allowed=False,
        trade_allowed=trade_allowed,
        tradeapi_disabled=False,
        email_enabled=False,
        ftp_enabled=False,
        notifications_enabled=False,
        mqid=False,
        build=SIMULATED_BUILD,
        maxbars=100_000,
        codepage=0,
        ping_last=0,
        community_balance=0.0,
        retransmission=0.0,
        company=company,
        name="Simulated Terminal",
        language="English",
        path="",
        data_path="",
        commondata_path="",
    )
