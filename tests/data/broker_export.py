"""Test fixtures that look exactly like a real MT5 export from a broker on New York close time.

Such brokers (most FX brokers) run their server clock at New York time + 7 h: UTC+2 in US winter and
UTC+3 in US summer, so the FX week (New York 17:00 Sunday) opens at 00:00 server time on Monday. The
terminal writes bars and ticks in server time, tab separated, `2024.01.08` dates, CRLF line ends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from services.mt5.core.simulated.market import DeterministicMarket
from shared.market.symbols import DEFAULT_SYMBOLS
from shared.market.timeframes import get_timeframe

_NEW_YORK = ZoneInfo("America/New_York")
_SERVER_AHEAD_OF_NEW_YORK = timedelta(hours=7)
MARKET = DeterministicMarket(DEFAULT_SYMBOLS)


def server_offset_s(utc_s: int) -> int:
    """The broker's server time minus UTC at `utc_s`: +7200 in US winter, +10800 in US summer."""
    new_york = datetime.fromtimestamp(utc_s, UTC).astimezone(_NEW_YORK).utcoffset()
    assert new_york is not None
    return int((new_york + _SERVER_AHEAD_OF_NEW_YORK).total_seconds())


def to_server_s(utc_s: np.ndarray) -> np.ndarray:
    return utc_s + np.array([server_offset_s(int(t)) for t in utc_s], dtype=np.int64)


def market_bars(symbol: str, timeframe: str, from_s: int, to_s: int) -> np.ndarray:
    """The simulated market's bars opening in [from_s, to_s), in UTC."""
    bars = MARKET.rates_range(symbol, get_timeframe(timeframe), from_s, to_s - 1, 2**62)
    return bars[bars["time"] < to_s]


def broker_bar_export(bars: np.ndarray) -> bytes:
    """An MT5 bar export (as the terminal writes it) of UTC `bars`, stamped in the broker's server time."""
    lines = ["<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>"]
    for bar, server_s in zip(bars, to_server_s(bars["time"].astype(np.int64)).tolist(), strict=True):
        stamp = datetime.fromtimestamp(server_s, UTC)
        lines.append(
            f"{stamp:%Y.%m.%d}\t{stamp:%H:%M:%S}\t{bar['open']:.5f}\t{bar['high']:.5f}\t{bar['low']:.5f}"
            f"\t{bar['close']:.5f}\t{bar['tick_volume']}\t{bar['real_volume']}\t{bar['spread']}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def broker_tick_export(ticks: np.ndarray) -> bytes:
    """An MT5 tick export of UTC `ticks`, stamped in server time (blank LAST, as FX symbols have)."""
    lines = ["<DATE>\t<TIME>\t<BID>\t<ASK>\t<LAST>\t<VOLUME>\t<FLAGS>"]
    server_s = to_server_s(ticks["time"].astype(np.int64))
    for tick, shifted in zip(ticks, server_s.tolist(), strict=True):
        ms = int(tick["time_msc"]) % 1000
        stamp = datetime.fromtimestamp(shifted, UTC)
        lines.append(
            f"{stamp:%Y.%m.%d}\t{stamp:%H:%M:%S}.{ms:03d}\t{float(tick['bid'])!r}\t{float(tick['ask'])!r}\t\t\t{tick['flags']}"
        )
    return ("\r\n".join(lines) + "\r\n").encode()


def utc(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())
