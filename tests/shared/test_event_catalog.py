"""The event catalog: the README's table is generated from it, every publish site names a catalog type."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import orjson
import pytest
from pydantic import ValidationError

from shared.event_catalog import CATALOG, TICK, job_event, readme_table
from shared.event_payloads import Alert, ServiceStatusChanged, Signal, TickData
from shared.events import EventBus
from shared.market.candle_events import candle_closed, read_candle
from shared.market.records import RATES_DTYPE

ROOT = Path(__file__).resolve().parents[2]
PUBLISHERS = {"publish", "_publish", "publish_threadsafe", "emit"}


def test_readme_event_table_is_the_catalogs() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- event-catalog:begin -->\n", 1)[1].split("\n<!-- event-catalog:end -->", 1)[0]
    assert block == readme_table(), "regenerate the README's table with `python -m shared.event_catalog`"


def test_publish_sites_name_catalog_types_not_string_literals() -> None:
    literals = []
    for path in [*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", None))
            first = node.args[0]
            if name in PUBLISHERS and isinstance(first, ast.Constant | ast.JoinedStr):
                literals.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert literals == []


def test_catalog_names_every_job_event() -> None:
    assert {job_event("backtest", phase) for phase in ("progress", "completed", "failed")} <= CATALOG.keys()


def test_payload_wire_keeps_set_fields_under_wire_names() -> None:
    status = ServiceStatusChanged(
        service="data", from_="STARTING", to="ONLINE", state="ONLINE", reason="healthy", pid=7, restarts=0
    )
    alert = Alert(code="disk_full")

    assert status.wire()["from"] == "STARTING" and "from_" not in status.wire()
    assert ServiceStatusChanged.model_validate(status.wire()) == status
    assert alert.wire() == {"code": "disk_full"}  # unset defaults stay off the wire
    open_payload = Alert.model_validate({"code": "x", "symbol": "EURUSD", "details": {"a": 1}})
    for payload in (status, alert, open_payload):
        assert payload.wire() == payload.model_dump(by_alias=True, exclude_unset=True)


def test_payload_refuses_a_missing_field() -> None:
    with pytest.raises(ValidationError):
        Signal.model_validate({"instance": "a", "symbol": "EURUSD"})


def test_bus_sends_a_payload_as_its_wire_fields() -> None:
    bus = EventBus("mt5", clock_ms=lambda: 5)
    tick = TickData(
        symbol="EURUSD", time=1, bid=1.1, ask=1.2, last=0.0, volume=0, time_msc=1000, flags=6, volume_real=0.0
    )

    event = bus.publish(TICK, tick)

    assert event == {"seq": 1, "ts": 5, "source": "mt5", "type": "tick", "data": tick.wire()}


def test_candle_closed_payload_reads_back() -> None:
    bar = np.zeros(1, dtype=RATES_DTYPE)[0]
    bar["time"], bar["open"], bar["high"], bar["low"], bar["close"] = 60, 1.0, 2.0, 0.5, 1.5

    wire = orjson.loads(
        orjson.dumps(candle_closed("eurusd", "m1", bar, market_ms=61_000, backfill=False).wire())
    )
    candle = read_candle(wire)

    assert candle is not None and candle.symbol == "EURUSD" and candle.time == 60 and not candle.backfill
