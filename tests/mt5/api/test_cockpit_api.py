"""What the dashboard's cockpit reads of the mt5 service: a position's commission (MT5's TradePosition has
none; the terminal shows its entry deals'), and the deal history filtered by symbol and magic number."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.market import mt5_constants as mt5
from tests.mt5.api.support import WEDNESDAY_MS, ManualClock, buy, error_of, mt5_client, mt5_config

COMMISSION_PER_LOT = 7.0


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = mt5_config(
        tmp_path, simulated={"seed": 7, "account": {"commission_per_lot": COMMISSION_PER_LOT}}
    )
    with mt5_client(settings, ManualClock(WEDNESDAY_MS)) as client:
        yield client


def test_positions_carry_the_commission_of_their_entry_deals(client: TestClient) -> None:
    assert buy(client, 0.2).status_code == 200
    assert buy(client, 0.1, magic=20240001).status_code == 200

    positions = sorted(client.get("/positions").json(), key=lambda p: p["volume"])

    assert [p["commission"] for p in positions] == [-0.7, -1.4]
    deals = [
        d for d in client.get("/history/deals").json() if d["entry"] == mt5.DEAL_ENTRY_IN and d["symbol"]
    ]
    assert sorted(d["commission"] for d in deals) == [-1.4, -0.7]


def test_positions_commission_after_a_partial_close_is_the_open_part_s(client: TestClient) -> None:
    assert buy(client, 0.2).status_code == 200
    (position,) = client.get("/positions").json()
    assert client.post(f"/positions/{position['ticket']}/close", json={"volume": 0.1}).status_code == 200

    (position,) = client.get("/positions").json()

    assert position["commission"] == -1.4  # what entering cost; the partial close's own is realised


def test_history_deals_filtered_by_symbol_and_magic(client: TestClient) -> None:
    assert buy(client, 0.1, magic=20240001).status_code == 200
    assert buy(client, 0.2, magic=20240002).status_code == 200
    assert (
        client.post(
            "/orders", json={"symbol": "GBPUSD", "type": "SELL", "volume": 0.3, "magic": 20240001}
        ).status_code
        == 200
    )

    by_magic = client.get("/history/deals", params={"magic": 20240001}).json()
    by_symbol = client.get("/history/deals", params={"symbol": "eurusd"}).json()
    both = client.get("/history/deals", params={"symbol": "EURUSD", "magic": 20240001}).json()

    assert sorted(d["volume"] for d in by_magic) == [0.1, 0.3]
    assert sorted(d["volume"] for d in by_symbol) == [0.1, 0.2]
    assert [d["volume"] for d in both] == [0.1]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"magic": -1}, "magic"),
        ({"magic": "x"}, "magic"),
        ({"magic": 2**63}, "magic"),
        ({"symbol": "X" * 33}, "symbol"),
    ],
    ids=["negative_magic", "text_magic", "huge_magic", "long_symbol"],
)
def test_history_deals_bad_filter_refused_naming_the_field(
    client: TestClient, params: dict[str, object], field: str
) -> None:
    response = client.get("/history/deals", params=params)

    assert response.status_code == 422, response.text
    assert field in str(error_of(response))
