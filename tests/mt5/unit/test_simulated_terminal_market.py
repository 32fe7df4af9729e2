"""The simulated terminal's market-data half: MT5 shapes, history up to the clock's now, failures as MT5."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from services.mt5.core.simulated.clock import ReplayClock
from services.mt5.core.simulated.feed import MarketFeed
from services.mt5.core.simulated.market import MINUTE_MS, DeterministicMarket
from services.mt5.core.simulated.terminal import SimulatedTerminal
from services.mt5.core.terminal import Terminal
from shared.errors import NotFoundError
from shared.market import mt5_constants as mt5
from shared.market.bars import ticks_to_bars
from shared.market.records import RATES_DTYPE, TICKS_DTYPE, SymbolInfo, TerminalInfo, Tick
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import TIMEFRAMES

NOW_MS = 1_763_557_234_567  # Wednesday 2025-11-19 13:00:34.567 UTC
H1 = TIMEFRAMES["H1"].code
M1 = TIMEFRAMES["M1"].code


class SteppedClock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def now_ms(self) -> int:
        return self.now


def make_terminal(now_ms: int = NOW_MS, *, seed: int = 5) -> tuple[SimulatedTerminal, SteppedClock]:
    clock = SteppedClock(now_ms)
    terminal = SimulatedTerminal(MarketFeed(DeterministicMarket(DEFAULT_SYMBOLS, seed=seed), clock))
    assert terminal.initialize()
    return terminal, clock


@pytest.fixture
def terminal() -> SimulatedTerminal:
    return make_terminal()[0]


def test_simulated_terminal_satisfies_terminal_protocol(terminal: SimulatedTerminal) -> None:
    assert isinstance(terminal, Terminal)


def test_simulated_terminal_before_initialize_fails_with_no_connection() -> None:
    clock = SteppedClock(NOW_MS)
    terminal = SimulatedTerminal(MarketFeed(DeterministicMarket(DEFAULT_SYMBOLS), clock))
    assert terminal.symbol_info_tick("EURUSD") is None
    assert terminal.last_error()[0] == mt5.RES_E_INTERNAL_FAIL_CONNECT
    assert terminal.terminal_info().connected is False


def test_simulated_terminal_symbols_get_returns_symbol_infos_with_live_quotes(
    terminal: SimulatedTerminal,
) -> None:
    infos = terminal.symbols_get()
    assert [i.name for i in infos] == ["EURUSD", "GBPUSD", "USDJPY", "XAUUSD"]
    eurusd = infos[0]
    assert type(eurusd) is SymbolInfo and eurusd._fields == SymbolInfo._fields
    tick = terminal.symbol_info_tick("EURUSD")
    assert (eurusd.bid, eurusd.ask, eurusd.time) == (tick.bid, tick.ask, tick.time)
    assert eurusd.digits == 5 and eurusd.point == 0.00001 and eurusd.trade_contract_size == 100_000
    assert eurusd.trade_tick_value == pytest.approx(1.0)
    assert eurusd.filling_mode == mt5.SYMBOL_FILLING_FOK | mt5.SYMBOL_FILLING_IOC
    usdjpy = terminal.symbol_info("USDJPY")
    assert usdjpy.trade_tick_value == pytest.approx(100_000 * 0.001 / usdjpy.bid)


def test_simulated_terminal_symbols_get_group_filter(terminal: SimulatedTerminal) -> None:
    assert [i.name for i in terminal.symbols_get(group="*,!*JPY*,!XAU*")] == ["EURUSD", "GBPUSD"]


def test_simulated_terminal_unknown_symbol_none_and_not_found(terminal: SimulatedTerminal) -> None:
    assert terminal.symbol_info("NOPE") is None
    assert terminal.last_error()[0] == mt5.RES_E_NOT_FOUND
    assert terminal.symbol_select("NOPE") is False
    with pytest.raises(NotFoundError) as err:
        terminal.symbol_spec("NOPE")
    assert err.value.code == "unknown_symbol"


def test_simulated_terminal_tick_is_latest_at_or_before_now(terminal: SimulatedTerminal) -> None:
    tick = terminal.symbol_info_tick("EURUSD")
    ticks = terminal.copy_ticks_range(
        "EURUSD", (NOW_MS - MINUTE_MS) / 1000, NOW_MS / 1000, mt5.COPY_TICKS_ALL
    )
    assert type(tick) is Tick and tick == Tick(*ticks[-1].item())
    assert tick.time_msc <= NOW_MS


def test_simulated_terminal_copy_ticks_range_never_returns_future(terminal: SimulatedTerminal) -> None:
    ticks = terminal.copy_ticks_range("EURUSD", NOW_MS / 1000 - 600, NOW_MS / 1000 + 3600, mt5.COPY_TICKS_ALL)
    assert ticks.dtype == TICKS_DTYPE and len(ticks) > 100
    assert ticks["time_msc"].max() <= NOW_MS


def test_simulated_terminal_copy_ticks_range_includes_date_to(terminal: SimulatedTerminal) -> None:
    ticks = terminal.copy_ticks_range("EURUSD", NOW_MS / 1000 - 600, NOW_MS / 1000 - 300, mt5.COPY_TICKS_ALL)
    last_ms = int(ticks["time_msc"][-1])
    again = terminal.copy_ticks_range("EURUSD", NOW_MS / 1000 - 600, last_ms / 1000, mt5.COPY_TICKS_ALL)
    assert np.array_equal(again, ticks)


def test_simulated_terminal_copy_ticks_flags_info_all_trade(terminal: SimulatedTerminal) -> None:
    args = ("GBPUSD", NOW_MS / 1000 - 300, 500)
    every = terminal.copy_ticks_from(*args, mt5.COPY_TICKS_ALL)
    assert len(every) == 500
    assert np.array_equal(terminal.copy_ticks_from(*args, mt5.COPY_TICKS_INFO), every)
    trades = terminal.copy_ticks_from(*args, mt5.COPY_TICKS_TRADE)
    assert trades.dtype == TICKS_DTYPE and len(trades) == 0
    assert terminal.copy_ticks_from(*args, 99) is None
    assert terminal.last_error()[0] == mt5.RES_E_INVALID_PARAMS


def test_simulated_terminal_rates_from_pos_zero_is_current_unfinished_bar(
    terminal: SimulatedTerminal,
) -> None:
    bars = terminal.copy_rates_from_pos("EURUSD", H1, 0, 3)
    hour_open = NOW_MS // 3_600_000 * 3600
    assert bars.dtype == RATES_DTYPE and bars["time"].tolist() == [
        hour_open - 7200,
        hour_open - 3600,
        hour_open,
    ]
    ticks = terminal.copy_ticks_range("EURUSD", hour_open, NOW_MS / 1000, mt5.COPY_TICKS_ALL)
    assert np.array_equal(bars[-1:], ticks_to_bars(ticks, TIMEFRAMES["H1"], 0.00001))


def test_simulated_terminal_rates_from_pos_start_pos_skips_newest(terminal: SimulatedTerminal) -> None:
    newest = terminal.copy_rates_from_pos("EURUSD", M1, 0, 5)
    older = terminal.copy_rates_from_pos("EURUSD", M1, 2, 3)
    assert np.array_equal(older, newest[:3])


def test_simulated_terminal_rates_datetime_and_epoch_arguments_agree(terminal: SimulatedTerminal) -> None:
    start = datetime(2025, 11, 19, 8, tzinfo=UTC)
    end = datetime(2025, 11, 19, 11, tzinfo=UTC)
    by_datetime = terminal.copy_rates_range("USDJPY", H1, start, end)
    by_epoch = terminal.copy_rates_range("USDJPY", H1, int(start.timestamp()), int(end.timestamp()))
    assert len(by_datetime) == 4 and np.array_equal(by_datetime, by_epoch)
    from_count = terminal.copy_rates_from("USDJPY", H1, end, 4)
    assert np.array_equal(from_count, by_datetime)


def test_simulated_terminal_naive_datetime_refused(terminal: SimulatedTerminal) -> None:
    assert terminal.copy_rates_range("EURUSD", H1, datetime(2025, 11, 19), datetime(2025, 11, 19, 5)) is None
    assert terminal.last_error()[0] == mt5.RES_E_INVALID_PARAMS


def test_simulated_terminal_unknown_timeframe_refused(terminal: SimulatedTerminal) -> None:
    assert terminal.copy_rates_from_pos("EURUSD", 7, 0, 10) is None
    assert terminal.last_error()[0] == mt5.RES_E_INVALID_PARAMS


def test_simulated_terminal_later_clock_extends_history_without_changing_it() -> None:
    terminal, clock = make_terminal()
    start_s = NOW_MS / 1000 - 120
    before = terminal.copy_ticks_range("EURUSD", start_s, start_s + 3600, mt5.COPY_TICKS_ALL)
    clock.now += 90_000
    after = terminal.copy_ticks_range("EURUSD", start_s, start_s + 3600, mt5.COPY_TICKS_ALL)
    assert len(after) > len(before) and np.array_equal(after[: len(before)], before)


def test_simulated_terminal_restart_serves_identical_history() -> None:
    first, _ = make_terminal()
    second, _ = make_terminal()
    args = ("XAUUSD", NOW_MS / 1000 - 7200, NOW_MS / 1000, mt5.COPY_TICKS_ALL)
    assert np.array_equal(first.copy_ticks_range(*args), second.copy_ticks_range(*args))
    assert np.array_equal(
        first.copy_rates_from_pos("XAUUSD", M1, 0, 200), second.copy_rates_from_pos("XAUUSD", M1, 0, 200)
    )


def test_simulated_terminal_info_and_version(terminal: SimulatedTerminal) -> None:
    info = terminal.terminal_info()
    assert type(info) is TerminalInfo and info.connected and len(info) == 22
    assert terminal.version()[1] > 0


def test_simulated_terminal_without_broker_refuses_trading(terminal: SimulatedTerminal) -> None:
    assert terminal.account_info() is None
    assert terminal.last_error()[0] == mt5.RES_E_UNSUPPORTED
    assert terminal.sync() == []


def test_simulated_terminal_on_replay_clock_runs_an_hour_per_second() -> None:
    monotonic = [0.0]
    clock = ReplayClock(NOW_MS, speed=3600, monotonic=lambda: monotonic[0])
    terminal = SimulatedTerminal(MarketFeed(DeterministicMarket(DEFAULT_SYMBOLS, seed=5), clock))
    terminal.initialize()
    before = terminal.copy_rates_from_pos("EURUSD", H1, 0, 1)["time"][0]
    monotonic[0] += 1.0
    after = terminal.copy_rates_from_pos("EURUSD", H1, 0, 1)["time"][0]
    assert after - before == 3600
    assert terminal.symbol_info_tick("EURUSD").time_msc <= NOW_MS + 3_600_000
