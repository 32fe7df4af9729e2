"""MT5 CSV import and export: formats, validation of the first bad line, streaming, round trip."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from services.data.core.bar_store import BarStore
from services.data.core.importer import import_mt5_csv
from services.data.core.mt5_csv import export_mt5_csv, parse_mt5_csv
from services.data.core.stores import open_stores
from shared.errors import InvalidInputError
from shared.market.bars import ticks_to_bars
from shared.market.timeframes import TIMEFRAMES
from tests.data.unit.factories import POINT, make_ticks

BARS_TAB = (
    "<DATE>\t<TIME>\t<OPEN>\t<HIGH>\t<LOW>\t<CLOSE>\t<TICKVOL>\t<VOL>\t<SPREAD>\r\n"
    "2024.01.02\t00:00:00\t1.10430\t1.10440\t1.10400\t1.10410\t52\t0\t7\r\n"
    "2024.01.02\t00:01:00\t1.10410\t1.10450\t1.10410\t1.10450\t31\t0\t6\r\n"
)
TICKS_COMMA = (
    "<DATE>,<TIME>,<BID>,<ASK>,<LAST>,<VOLUME>,<FLAGS>\n"
    "2024.01.02,00:00:00.123,1.10430,1.10440,,,6\n"
    "2024.01.02,00:00:00.123,,1.10445,,,4\n"
    "2024.01.02,00:00:01.5,1.10431,,,,2\n"
)


def _parse(text: str, **kwargs: object) -> object:
    return parse_mt5_csv(io.BytesIO(text.encode()), **kwargs)  # type: ignore[arg-type]


def test_parse_bars_tab_separated() -> None:
    parsed = _parse(BARS_TAB, timeframe=TIMEFRAMES["M1"])
    assert parsed.kind == "bars"
    assert parsed.data["time"].tolist() == [1_704_153_600, 1_704_153_660]
    assert parsed.data[0].tolist() == (1_704_153_600, 1.1043, 1.1044, 1.104, 1.1041, 52, 7, 0)


def test_parse_ticks_comma_separated_carries_blank_prices() -> None:
    parsed = _parse(TICKS_COMMA)
    assert parsed.kind == "ticks"
    assert parsed.data["time_msc"].tolist() == [1_704_153_600_123, 1_704_153_600_123, 1_704_153_601_500]
    assert parsed.data["bid"].tolist() == [1.1043, 1.1043, 1.10431]
    assert parsed.data["ask"].tolist() == [1.1044, 1.10445, 1.10445]
    assert parsed.data["flags"].tolist() == [6, 4, 2]


def test_parse_bars_short_time_and_utf16_bom() -> None:
    text = BARS_TAB.replace("00:01:00", "00:01")
    parsed = parse_mt5_csv(io.BytesIO(text.encode("utf-16")))
    assert parsed.data["time"].tolist() == [1_704_153_600, 1_704_153_660]


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        ("2024.01.02\t00:02:00\t1.1\t1.0\t1.1\t1.1\t5\t0\t7", "high/low"),
        ("2024.13.02\t00:02:00\t1.1\t1.2\t1.0\t1.1\t5\t0\t7", "bad date"),
        ("2024.01.02\t00:02:00\t1.1\t1.2\t1.0\tx\t5\t0\t7", "not a number"),
        ("2024.01.02\t00:02:00\t1.1\t1.2\t1.0\t1.1\t5\t0", "expected 9 fields"),
        ("2024.01.02\t00:01:00\t1.1\t1.2\t1.0\t1.1\t5\t0\t7", "increase"),
        ("2024.01.02\t00:02:30\t1.1\t1.2\t1.0\t1.1\t5\t0\t7", "M1 bar open"),
        ("2024.01.02\t00:02:00\t1.1\t1.2\t1.0\t1.1\t-5\t0\t7", "non-negative"),
    ],
)
def test_parse_bad_line_reports_its_number_and_reason(bad_line: str, reason: str) -> None:
    text = BARS_TAB + bad_line + "\r\n" + "2024.01.02\t00:09:00\t1.1\t1.2\t1.0\t1.1\t5\t0\t7\r\n"
    with pytest.raises(InvalidInputError) as raised:
        _parse(text, timeframe=TIMEFRAMES["M1"])
    assert raised.value.details["line"] == 4
    assert reason in raised.value.details["reason"]


def test_parse_unknown_header_rejected_on_line_one() -> None:
    with pytest.raises(InvalidInputError) as raised:
        _parse("DATE,OPEN\n2024.01.02,1.1\n")
    assert raised.value.details["line"] == 1


def test_parse_tick_blank_bid_on_first_line_rejected() -> None:
    with pytest.raises(InvalidInputError) as raised:
        _parse("<DATE>,<TIME>,<BID>,<ASK>,<LAST>,<VOLUME>,<FLAGS>\n2024.01.02,00:00:00,,1.1,,,4\n")
    assert raised.value.details == {
        "line": 2,
        "column": "<BID>",
        "reason": "<BID> is blank and no earlier line gives it",
    }


def test_import_bad_file_writes_nothing(tmp_path: Path) -> None:
    ticks = make_ticks(300)
    buffer = io.BytesIO()
    export_mt5_csv(ticks, buffer)
    lines = buffer.getvalue().split(b"\r\n")
    lines[250] = lines[250].replace(b".", b"x", 1)  # a bad date near the end, after many good lines
    stores = open_stores(tmp_path)
    with pytest.raises(InvalidInputError) as raised:
        import_mt5_csv(stores, "EURUSD", io.BytesIO(b"\r\n".join(lines)))
    assert raised.value.details["line"] == 251
    assert stores.ticks.symbols() == [] and stores.ticks.last_tick("EURUSD") is None
    result = import_mt5_csv(stores, "EURUSD", io.BytesIO(buffer.getvalue()))
    assert (result.kind, result.rows, result.written) == ("ticks", 300, 300)
    assert np.array_equal(stores.ticks.read_range("EURUSD", 0, 2**62), ticks)
    stores.close()


def test_import_bar_file_without_timeframe_rejected(tmp_path: Path) -> None:
    stores = open_stores(tmp_path)
    with pytest.raises(InvalidInputError):
        import_mt5_csv(stores, "EURUSD", io.BytesIO(BARS_TAB.encode()))
    assert stores.bars.statistics() == []
    stores.close()


def test_export_then_import_ticks_identical_in_small_chunks_with_progress() -> None:
    ticks = make_ticks(250_000, max_step_ms=3)
    ticks["last"] = ticks["bid"]
    ticks["volume"] = np.arange(len(ticks)) % 4
    ticks["volume_real"] = ticks["volume"]
    buffer = io.BytesIO()
    assert export_mt5_csv(ticks, buffer, delimiter=",") == len(ticks)
    seen: list[int] = []
    parsed = parse_mt5_csv(io.BytesIO(buffer.getvalue()), chunk_bytes=1 << 16, progress=seen.append)
    assert np.array_equal(parsed.data, ticks)
    assert seen[-1] == len(buffer.getvalue()) == parsed.bytes_read
    assert seen == sorted(seen) and len(seen) > 10


def test_export_then_import_bars_into_store_identical(tmp_path: Path) -> None:
    bars = ticks_to_bars(make_ticks(50_000, max_step_ms=5_000), TIMEFRAMES["M5"], POINT)
    buffer = io.BytesIO()
    export_mt5_csv(bars, buffer)
    parsed = parse_mt5_csv(io.BytesIO(buffer.getvalue()), timeframe=TIMEFRAMES["M5"])
    store = BarStore.in_directory(tmp_path, ["M5"])
    store.upsert("EURUSD", "M5", parsed.data, "import")
    assert np.array_equal(store.read("EURUSD", "M5"), bars)
    again = io.BytesIO()
    export_mt5_csv(store.read("EURUSD", "M5"), again)
    assert again.getvalue() == buffer.getvalue()
