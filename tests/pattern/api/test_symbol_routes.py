"""The {symbol}/{timeframe} routes against a real (stand-in) data service over HTTP and Arrow."""

from __future__ import annotations

import numpy as np
import orjson
import pyarrow as pa
import pytest
import talib
from fastapi.testclient import TestClient

from services.pattern.core.bars_source import bar_columns
from services.pattern.core.candlesticks import detect_patterns
from services.pattern.core.catalog import Catalog
from services.pattern.core.chart_analysis import ChartOptions, analyze_chart
from services.pattern.core.spec import parse_specs
from shared.columnar import ARROW_MEDIA_TYPE
from tests.pattern.api.conftest import column
from tests.pattern.api.data_standin import DataStandIn

Store = dict[tuple[str, str], np.ndarray]


def test_indicators_count_window_is_warmed_up_on_earlier_history(client: TestClient, store: Store) -> None:
    bars = store[("EURUSD", "M1")]

    response = client.get("/indicators/EURUSD/M1", params={"indicators": "SMA(20),RSI(14)", "count": 50})

    assert response.status_code == 200
    body = response.json()
    assert (body["symbol"], body["timeframe"]) == ("EURUSD", "M1")
    columns = body["columns"]
    assert columns["time"] == bars["time"][-50:].tolist()
    # Equal to the whole series' values up to rounding: SMA restarts its running sum, RSI has converged.
    np.testing.assert_allclose(column(columns["SMA_20"]), talib.SMA(bars["close"], 20)[-50:], rtol=1e-12)
    np.testing.assert_allclose(column(columns["RSI_14"]), talib.RSI(bars["close"], 14)[-50:], rtol=1e-8)
    assert None not in columns["SMA_20"]


def test_indicators_as_arrow_carry_the_same_window_and_what_it_is(client: TestClient) -> None:
    params = {"indicators": "SMA(20),RSI(14)", "count": 50}
    by_json = client.get("/indicators/EURUSD/M1", params=params).json()

    response = client.get("/indicators/EURUSD/M1", params={**params, "format": "arrow"})

    assert response.headers["content-type"] == ARROW_MEDIA_TYPE
    table = pa.ipc.open_stream(response.content).read_all()
    assert table.to_pydict() == by_json["columns"]
    metadata = table.schema.metadata
    assert (metadata[b"symbol"], metadata[b"timeframe"]) == (b"EURUSD", b"M1")
    assert orjson.loads(metadata[b"indicators"]) == by_json["indicators"]


def test_indicators_range_reads_lookback_before_from(
    client: TestClient, store: Store, data: DataStandIn
) -> None:
    bars = store[("EURUSD", "M1")]
    start, end = int(bars["time"][100]), int(bars["time"][160])

    response = client.get(
        "/indicators/EURUSD/m1", params={"indicators": "MACD(12,26,9)", "from": start, "to": end}
    )

    assert response.status_code == 200
    columns = response.json()["columns"]
    assert columns["time"] == bars["time"][100:161].tolist()  # `to` is inclusive, as the data service's
    macd, _, _ = talib.MACD(bars["close"], 12, 26, 9)
    np.testing.assert_allclose(column(columns["MACD_12_26_9_macd"]), macd[100:161], rtol=1e-8)
    # 20 look-backs of 33 bars were asked for up to just before `from`; the stand-in had 100.
    assert {"from": None, "to": start - 1, "count": 660, "rows": 100} in data.requests


def test_indicators_iso_times_accepted(client: TestClient, store: Store) -> None:
    bars = store[("EURUSD", "M1")]

    response = client.get(
        "/indicators/EURUSD/M1",
        params={"indicators": "EMA(5)", "from": "2023-11-14T22:14:00Z", "to": "2023-11-14T22:16:00Z"},
    )

    assert response.status_code == 200
    assert response.json()["columns"]["time"] == [1_700_000_040, 1_700_000_100, 1_700_000_160]
    assert 1_700_000_040 in bars["time"]


def test_patterns_window_matches_detection_on_whole_series(client: TestClient, store: Store) -> None:
    bars = store[("EURUSD", "M1")]
    catalog = Catalog.candlesticks()
    full = detect_patterns(parse_specs(",".join(catalog), catalog, max_specs=61), bar_columns(bars))
    expected = full.since(len(bars) - 100).to_records()

    response = client.get("/patterns/EURUSD/M1", params={"count": 100})

    assert response.status_code == 200
    assert response.json()["detections"] == expected
    assert len(expected) > 0


def test_chart_route_analyses_exactly_the_window(client: TestClient, store: Store) -> None:
    bars = store[("EURUSD", "M1")]
    expected = analyze_chart(bar_columns(bars[-200:]), ChartOptions(swing_left=3, pivot_period="H1"))

    response = client.get(
        "/chart-patterns/EURUSD/M1", params={"count": 200, "swing_left": 3, "pivot_period": "H1"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["swings"]["highs"]["time"] == expected["swings"]["highs"]["time"].tolist()
    assert len(body["levels"]) == len(expected["levels"])
    assert body["pivots"]["periods"] == expected["pivots"]["periods"]


def test_unknown_symbol_passes_the_data_service_404_through(client: TestClient) -> None:
    response = client.get("/indicators/NOPE/M1", params={"indicators": "SMA(5)"})

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_symbol"


@pytest.mark.parametrize(
    ("path", "params", "code"),
    [
        ("/indicators/EURUSD/M7", {"indicators": "SMA(5)"}, "unknown_timeframe"),
        ("/patterns/EURUSD/M1", {"from": 1_700_000_000, "count": 5}, "invalid_query"),
        ("/chart-patterns/EURUSD/M1", {"from": 1_700_000_000, "to": 1_600_000_000}, "invalid_query"),
        ("/indicators/EURUSD/M1", {"indicators": "SMA(5)", "from": "yesterday"}, "invalid_time"),
        ("/indicators/EURUSD/M1", {"indicators": "SMA(5)", "count": 10_000_000}, "invalid_query"),
        ("/indicators/EURUSD/M1", {}, "validation_error"),
    ],
)
def test_bad_queries_are_422(client: TestClient, path: str, params: dict[str, object], code: str) -> None:
    response = client.get(path, params=params)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(
    "path", ["/indicators/EURUSD/M1?indicators=SMA(5)", "/patterns/EURUSD/M1", "/chart-patterns/EURUSD/M1"]
)
def test_data_service_down_is_503_data_unavailable(down_client: TestClient, path: str) -> None:
    response = down_client.get(path)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "data_unavailable"


def test_symbol_and_timeframe_in_any_case_answer_upper_case(client: TestClient) -> None:
    response = client.get("/indicators/eurusd/m1", params={"indicators": "SMA(5)", "count": 5})

    assert response.status_code == 200, response.text
    assert (response.json()["symbol"], response.json()["timeframe"]) == ("EURUSD", "M1")


def test_unknown_timeframe_names_the_path_field(client: TestClient) -> None:
    error = client.get("/patterns/EURUSD/M7").json()["error"]

    assert error["code"] == "unknown_timeframe"
    assert (error["details"]["field"], error["details"]["value"]) == ("path.timeframe", "M7")


def test_patterns_take_ta_lib_names_with_or_without_cdl_in_any_case(client: TestClient) -> None:
    """The dashboard's default list sent `3WHITESOLDIERS`, refused as unparsable on every load."""
    response = client.get(
        "/patterns/EURUSD/M1", params={"patterns": "3WHITESOLDIERS,cdl3blackcrows,Engulfing", "count": 50}
    )

    assert response.status_code == 200, response.text
    assert response.json()["patterns"] == ["CDL3WHITESOLDIERS", "CDL3BLACKCROWS", "CDLENGULFING"]
