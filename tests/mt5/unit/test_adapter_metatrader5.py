"""The MetaTrader5 adapter against the strict fake module: its calls are checked, not assumed."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from services.mt5.core.adapters.boundary import SymbolNames, choose_filling, measure_offset
from services.mt5.core.adapters.metatrader5 import Mt5ModuleTerminal
from services.mt5.core.terminal import Terminal
from shared.errors import NotFoundError
from shared.market import mt5_constants as mt5
from shared.market.records import RATES_DTYPE, TICKS_DTYPE, AccountInfo, SymbolInfo, TradeDeal, TradePosition
from shared.market.timeframes import TIMEFRAMES
from tests.mt5.fakes.fake_metatrader5 import FakeMetaTrader5

NOW_MS = 1_763_557_234_567  # Wednesday 2025-11-19 13:00:34.567 UTC
OFFSET_S = 7200
H1 = TIMEFRAMES["H1"]


def make(
    offset_setting: int | str = OFFSET_S, now_ms: int = NOW_MS, **fake_args
) -> tuple[Mt5ModuleTerminal, FakeMetaTrader5]:
    fake = FakeMetaTrader5(now_ms=lambda: now_ms, server_offset_s=OFFSET_S, **fake_args)
    terminal = Mt5ModuleTerminal(
        module=fake, symbol_suffix="m", server_time_offset=offset_setting, utc_now=lambda: now_ms / 1000
    )
    assert terminal.initialize(login=7001, password="secret", server="Demo-Server")
    return terminal, fake


def test_adapter_satisfies_terminal_protocol() -> None:
    assert isinstance(make()[0], Terminal)


def test_adapter_initialize_passes_credentials_as_keywords() -> None:
    _, fake = make()
    name, args, kwargs = fake.calls[0]
    assert (name, args) == ("initialize", ())
    assert kwargs["login"] == 7001 and kwargs["server"] == "Demo-Server" and kwargs["password"] == "secret"


def test_adapter_symbol_info_selects_once_and_maps_suffix() -> None:
    terminal, fake = make()
    info = terminal.symbol_info("EURUSD")
    terminal.symbol_info_tick("EURUSD")
    assert type(info) is SymbolInfo and info.name == "EURUSD"
    assert [c for c in fake.calls if c[0] == "symbol_select"] == [("symbol_select", ("EURUSDm", True), {})]


def test_adapter_symbol_info_time_is_utc() -> None:
    terminal, fake = make()
    tick = terminal.symbol_info_tick("EURUSD")
    truth = fake.market.last_tick("EURUSD", NOW_MS + 1)
    assert tick.time_msc == truth["time_msc"] and tick.time == truth["time"]
    assert terminal.symbol_info("EURUSD").time == truth["time"]


def test_adapter_copy_rates_range_utc_in_utc_out() -> None:
    terminal, fake = make()
    start, end = datetime(2025, 11, 19, 8, tzinfo=UTC), datetime(2025, 11, 19, 11, tzinfo=UTC)
    bars = terminal.copy_rates_range("GBPUSD", H1.code, start, end)
    truth = fake.market.rates_range("GBPUSD", H1, int(start.timestamp()), int(end.timestamp()), NOW_MS + 1)
    assert bars.dtype == RATES_DTYPE and len(bars) == 4 and np.array_equal(bars, truth)
    _, args, _ = next(c for c in fake.calls if c[0] == "copy_rates_range")
    assert all(isinstance(a, datetime) and a.tzinfo is not None for a in args[2:])


def test_adapter_copy_ticks_and_rates_from_pos_times_are_utc() -> None:
    terminal, fake = make()
    ticks = terminal.copy_ticks_range("EURUSD", NOW_MS / 1000 - 60, NOW_MS / 1000, mt5.COPY_TICKS_ALL)
    assert ticks.dtype == TICKS_DTYPE
    assert np.array_equal(ticks, fake.market.ticks("EURUSD", NOW_MS - 60_000, NOW_MS + 1))
    forward = terminal.copy_ticks_from("EURUSD", NOW_MS / 1000 - 60, 10, mt5.COPY_TICKS_ALL)
    assert np.array_equal(forward, ticks[:10])
    bars = terminal.copy_rates_from_pos("EURUSD", H1.code, 0, 2)
    assert bars["time"][-1] == NOW_MS // 3_600_000 * 3600
    assert np.array_equal(terminal.copy_rates_from("EURUSD", H1.code, NOW_MS / 1000, 2), bars)


def test_adapter_naive_datetime_refused_before_reaching_module() -> None:
    terminal, fake = make()
    assert (
        terminal.copy_rates_range("EURUSD", H1.code, datetime(2025, 11, 19), datetime(2025, 11, 20)) is None
    )
    assert terminal.last_error()[0] == mt5.RES_E_INVALID_PARAMS
    assert not any(c[0] == "copy_rates_range" for c in fake.calls)


def test_adapter_market_order_chooses_allowed_filling_over_bitmask() -> None:
    terminal, fake = make(filling_modes={"EURUSDm": mt5.SYMBOL_FILLING_IOC})
    request = {
        "action": mt5.TRADE_ACTION_DEAL,
        "symbol": "EURUSD",
        "volume": 0.1,
        "type": mt5.ORDER_TYPE_BUY,
        "type_filling": mt5.SYMBOL_FILLING_IOC,
    }  # the classic bug: the bitmask (2) is RETURN here
    result = terminal.order_send(request)
    assert result.retcode == mt5.TRADE_RETCODE_DONE and result.request.symbol == "EURUSD"
    sent = next(c for c in fake.calls if c[0] == "order_send")[1][0]
    assert sent["type_filling"] == mt5.ORDER_FILLING_IOC and sent["symbol"] == "EURUSDm"
    assert request["symbol"] == "EURUSD"  # the caller's dict is not modified


def test_fake_refuses_bitmask_as_filling_with_10030() -> None:
    _, fake = make(filling_modes={"EURUSDm": mt5.SYMBOL_FILLING_IOC})
    fake.symbol_select("EURUSDm", True)
    result = fake.order_send(
        {
            "action": mt5.TRADE_ACTION_DEAL,
            "symbol": "EURUSDm",
            "volume": 0.1,
            "type": mt5.ORDER_TYPE_BUY,
            "type_filling": mt5.SYMBOL_FILLING_IOC,
        }
    )
    assert result.retcode == mt5.TRADE_RETCODE_INVALID_FILL


def test_adapter_positions_and_deals_mapped_to_platform_names_and_utc() -> None:
    terminal, fake = make()
    opened = terminal.order_send(
        {"action": mt5.TRADE_ACTION_DEAL, "symbol": "USDJPY", "volume": 0.2, "type": mt5.ORDER_TYPE_SELL}
    )
    (position,) = terminal.positions_get(symbol="USDJPY")
    tick = fake.market.last_tick("USDJPY", NOW_MS + 1)
    assert type(position) is TradePosition and position.symbol == "USDJPY"
    assert position.time_msc == tick["time_msc"] and position.price_open == tick["bid"]
    assert terminal.positions_get(group="*JPY*") == (position,)
    assert terminal.positions_get(ticket=position.ticket) == (position,)
    deals = terminal.history_deals_get(datetime(2025, 11, 19, tzinfo=UTC), NOW_MS / 1000)
    assert [d.ticket for d in deals] == [opened.deal] and type(deals[0]) is TradeDeal
    assert deals[0].symbol == "USDJPY" and deals[0].time == tick["time"]
    assert terminal.history_deals_get(position=position.ticket) == deals


def test_adapter_pending_expiration_sent_in_server_time() -> None:
    terminal, fake = make()
    expiry = NOW_MS // 1000 + 3600
    result = terminal.order_send(
        {
            "action": mt5.TRADE_ACTION_PENDING,
            "symbol": "EURUSD",
            "volume": 0.1,
            "type": mt5.ORDER_TYPE_BUY_LIMIT,
            "price": 1.0,
            "type_time": mt5.ORDER_TIME_SPECIFIED,
            "expiration": expiry,
        }
    )
    assert result.retcode == mt5.TRADE_RETCODE_PLACED
    assert fake.orders[result.order].time_expiration == expiry + OFFSET_S
    (order,) = terminal.orders_get(symbol="EURUSD")
    assert order.time_expiration == expiry and order.symbol == "EURUSD"


def test_adapter_account_name_is_not_symbol_mapped() -> None:
    terminal, _ = make()
    account = terminal.account_info()
    assert type(account) is AccountInfo and account.name == "Adam"


def test_adapter_auto_offset_measured_from_latest_tick() -> None:
    terminal, fake = make("auto")
    truth = fake.market.last_tick("EURUSD", NOW_MS + 1)
    assert terminal.symbol_info_tick("EURUSD").time_msc == truth["time_msc"]


def test_adapter_auto_offset_unknown_while_market_closed_fails_time_calls() -> None:
    saturday_ms = 1_763_812_800_000  # 2025-11-22 12:00 UTC
    terminal, _ = make("auto", now_ms=saturday_ms)
    assert terminal.copy_rates_from_pos("EURUSD", H1.code, 0, 5) is None
    code, message = terminal.last_error()
    assert code == mt5.RES_E_FAIL and "server_time_offset" in message


def test_adapter_symbol_spec_unknown_symbol_raises_not_found() -> None:
    terminal, _ = make()
    assert terminal.symbol_spec("XAUUSD").digits == 2
    with pytest.raises(NotFoundError):
        terminal.symbol_spec("NOPE")


def test_adapter_every_module_call_holds_the_lock() -> None:
    terminal, fake = make()
    seen: list[bool] = []
    fake.on_call = lambda name: seen.append(terminal._lock.locked())
    terminal.symbol_info_tick("EURUSD")
    terminal.positions_get()
    terminal.copy_rates_from_pos("EURUSD", H1.code, 0, 3)
    assert len(seen) >= 3 and all(seen)


def test_adapter_lost_connection_returns_none_with_ipc_error() -> None:
    terminal, fake = make()
    fake.reachable = False
    assert terminal.account_info() is None
    assert terminal.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_CONNECT


def test_adapter_without_module_installed_fails_initialize_cleanly() -> None:
    terminal = Mt5ModuleTerminal()
    assert terminal.initialize() is False
    code, message = terminal.last_error()
    assert code == mt5.LastError.INTERNAL_FAIL_INIT and "MetaTrader5" in message


def test_fake_rejects_positional_filters_naive_dates_and_unselected_symbols() -> None:
    _, fake = make()
    assert fake.positions_get("EURUSDm") is None and fake.last_error()[0] == mt5.RES_E_INVALID_PARAMS
    assert fake.symbol_info("GBPUSDm") is None and fake.last_error()[0] == mt5.RES_E_NOT_FOUND
    fake.symbol_select("GBPUSDm", True)
    assert fake.copy_ticks_range("GBPUSDm", datetime(2025, 11, 19), datetime(2025, 11, 19, 1), -1) is None


@pytest.mark.parametrize(
    ("mask", "requested", "expected"),
    [
        (3, None, mt5.ORDER_FILLING_FOK),
        (3, mt5.ORDER_FILLING_IOC, mt5.ORDER_FILLING_IOC),
        (2, 3, mt5.ORDER_FILLING_IOC),
        (1, mt5.ORDER_FILLING_IOC, mt5.ORDER_FILLING_FOK),
        (0, mt5.ORDER_FILLING_FOK, mt5.ORDER_FILLING_RETURN),
    ],
)
def test_choose_filling_follows_bitmask(mask: int, requested: int | None, expected: int) -> None:
    assert choose_filling(mask, requested) == expected


@pytest.mark.parametrize(
    ("tick_s", "now_s", "offset"), [(7210, 0, 7200), (10_700, 0, 10_800), (-20, 0, 0), (5300, 0, 5400)]
)
def test_measure_offset_rounds_to_half_hours(tick_s: int, now_s: float, offset: int) -> None:
    assert measure_offset(tick_s, now_s) == offset


def test_symbol_names_explicit_map_then_suffix() -> None:
    names = SymbolNames("m", {"XAUUSD": "GOLD"})
    assert names.to_broker("EURUSD") == "EURUSDm" and names.to_broker("XAUUSD") == "GOLD"
    assert names.to_platform("EURUSDm") == "EURUSD" and names.to_platform("GOLD") == "XAUUSD"
    assert names.group_to_broker("EURUSD,!*JPY*") == "EURUSDm,!*JPY*"
