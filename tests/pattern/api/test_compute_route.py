"""POST /indicators/compute: TA-Lib's values on the bars sent, and every bad input refused with a 422."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest
import talib
from fastapi.testclient import TestClient

from services.pattern.schemas import BarsIn
from shared.columnar import ARROW_MEDIA_TYPE
from tests.pattern.api.conftest import column
from tests.pattern.unit.conftest import make_bars
from tests.support.bars import json_columns

BARS = make_bars(300, seed=11)


def _post(client: TestClient, bars: dict[str, Any], indicators: Any) -> Any:
    return client.post("/indicators/compute", json={"bars": bars, "indicators": indicators})


def test_compute_outputs_equal_talib_with_nan_as_null(client: TestClient) -> None:
    response = _post(client, json_columns(BARS), "SMA(20),MACD(12,26,9),BBANDS(20,2,2)")

    assert response.status_code == 200
    body = response.json()
    columns = body["columns"]
    assert columns["time"] == BARS["time"].tolist()
    assert columns["SMA_20"][:19] == [None] * 19
    np.testing.assert_array_equal(column(columns["SMA_20"]), talib.SMA(BARS["close"], 20))
    macd, signal, hist = talib.MACD(BARS["close"], 12, 26, 9)
    np.testing.assert_array_equal(column(columns["MACD_12_26_9_macd"]), macd)
    np.testing.assert_array_equal(column(columns["MACD_12_26_9_macdsignal"]), signal)
    np.testing.assert_array_equal(column(columns["MACD_12_26_9_macdhist"]), hist)
    assert [spec["label"] for spec in body["indicators"]] == ["SMA_20", "MACD_12_26_9", "BBANDS_20_2_2"]
    assert body["indicators"][2]["columns"]["upperband"] == "BBANDS_20_2_2_upperband"


def test_compute_list_of_specs_and_tick_volume_alias(client: TestClient) -> None:
    bars = json_columns(BARS)
    bars["tick_volume"] = bars.pop("volume")

    response = _post(client, bars, ["OBV", "RSI(14)"])

    assert response.status_code == 200
    columns = response.json()["columns"]
    np.testing.assert_array_equal(column(columns["OBV"]), talib.OBV(BARS["close"], BARS["volume"]))
    np.testing.assert_array_equal(column(columns["RSI_14"]), talib.RSI(BARS["close"], 14))


@pytest.mark.parametrize(
    ("indicators", "code", "details"),
    [
        ("NOPE(3)", "unknown_indicator", {"indicator": "NOPE"}),
        ("SMA(0)", "invalid_parameter", {"indicator": "SMA", "parameter": "timeperiod"}),
        ("SMA(ten)", "invalid_parameter", {"indicator": "SMA", "parameter": "timeperiod"}),
        ("SMA(20,3,4)", "invalid_parameter", {"indicator": "SMA", "parameter": None}),
        ("BBANDS(20,2,2,99)", "invalid_parameter", {"indicator": "BBANDS", "parameter": "matype"}),
    ],
)
def test_compute_bad_spec_is_422_naming_indicator_and_parameter(
    client: TestClient, indicators: str, code: str, details: dict[str, Any]
) -> None:
    response = _post(client, json_columns(BARS), indicators)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == code
    assert details.items() <= error["details"].items()


def _broken(column_name: str, index: int, value: Any) -> dict[str, Any]:
    bars = json_columns(BARS)
    bars[column_name][index] = value
    return bars


@pytest.mark.parametrize(
    ("bars", "column_name", "index"),
    [
        ({**json_columns(BARS), "close": BARS["close"][:-1].tolist()}, "close", None),
        (_broken("high", 7, float(BARS["low"][7]) - 1), "high", 7),
        (_broken("time", 5, int(BARS["time"][3])), "time", 5),
        ({k: v for k, v in json_columns(BARS).items() if k != "high"}, "high", None),
    ],
    ids=["unequal-lengths", "high-below-low", "unsorted-time", "missing-input"],
)
def test_compute_bad_bars_are_422_naming_the_column(
    client: TestClient, bars: dict[str, Any], column_name: str, index: int | None
) -> None:
    response = _post(client, bars, "ATR(14)")

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details["column"] == column_name
    if index is not None:
        assert details["index"] == index


def test_compute_overflowing_number_is_422_not_finite(client: TestClient) -> None:
    body = orjson.dumps({"bars": _broken("low", 9, "INF"), "indicators": "ATR(14)"})

    response = client.post(
        "/indicators/compute",
        content=body.replace(b'"INF"', b"1e400"),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert (details["column"], details["index"]) == ("low", 9)


def test_compute_null_value_is_422_naming_the_field(client: TestClient) -> None:
    response = _post(client, _broken("close", 3, None), "SMA(5)")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["field"] == "body.bars.close.3"


@pytest.mark.parametrize(
    ("column_name", "value"),
    [
        ("close", "1.5"),
        ("close", True),
        ("volume", False),
        ("open", [1.5]),
        ("high", {"value": 1.5}),
        ("time", 1_700_000_000.5),
        ("time", "1700000000"),
        ("time", True),
        ("time", 2**63),
    ],
    ids=[
        "string",
        "true",
        "false",
        "nested-list",
        "object",
        "fractional-time",
        "string-time",
        "boolean-time",
        "time-beyond-int64",
    ],
)
def test_compute_non_number_is_422_naming_the_element(
    client: TestClient, column_name: str, value: Any
) -> None:
    response = _post(client, _broken(column_name, 4, value), "SMA(5)")

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]["errors"][0]["field"] == f"body.bars.{column_name}.4"


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity"])
def test_compute_nan_or_infinity_literal_is_422_naming_the_row(client: TestClient, literal: bytes) -> None:
    body = orjson.dumps({"bars": _broken("close", 6, "NOT_A_NUMBER"), "indicators": "SMA(5)"})

    response = client.post(
        "/indicators/compute",
        content=body.replace(b'"NOT_A_NUMBER"', literal),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert (details["column"], details["index"]) == ("close", 6)


def test_compute_integral_float_times_are_accepted(client: TestClient) -> None:
    """Integer times take simdjson's fast path and float ones pydantic's: the answers must be identical."""
    bars = json_columns(BARS)
    as_ints = _post(client, bars, "SMA(5)")

    as_floats = _post(client, {**bars, "time": [float(t) for t in bars["time"]]}, "SMA(5)")

    assert as_floats.status_code == 200
    assert as_floats.content == as_ints.content


def test_compute_malformed_json_is_422(client: TestClient) -> None:
    response = client.post(
        "/indicators/compute", content=b'{"bars": {', headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_compute_request_body_documented_in_openapi(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/indicators/compute"]["post"]["requestBody"]["content"]["application/json"]

    assert set(body["schema"]["properties"]) == {"bars", "indicators"}
    bars = body["schema"]["properties"]["bars"]["properties"]
    assert bars["time"]["items"] == {"type": "integer"}
    assert {"type": "array", "items": {"type": "number"}} in bars["close"]["anyOf"]


def _arrow(bars: dict[str, np.ndarray]) -> bytes:
    table = pa.table(bars)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_compute_arrow_body_equals_json_body(client: TestClient) -> None:
    specs = "SMA(20),STOCH(5,3,0,3,0)"
    by_json = _post(client, json_columns(BARS), specs)

    by_arrow = client.post(
        "/indicators/compute",
        params={"indicators": specs},
        content=_arrow(BARS),
        headers={"content-type": ARROW_MEDIA_TYPE},
    )

    assert by_arrow.status_code == 200
    assert by_arrow.content == by_json.content


@pytest.mark.parametrize(
    ("params", "content", "field"),
    [
        ({}, _arrow(BARS), "indicators"),
        ({"indicators": "SMA(5)"}, b"not arrow", None),
        (
            {"indicators": "SMA(5)"},
            _arrow({**BARS, "close": np.full(len(BARS["close"]), "n/a")}),
            "bars.close",
        ),
        (
            {"indicators": "SMA(5)"},
            _arrow({**BARS, "close": np.full(len(BARS["close"]), "1.5")}),
            "bars.close",
        ),
        (
            {"indicators": "SMA(5)"},
            _arrow({**BARS, "close": np.ones(len(BARS["close"]), dtype=bool)}),
            "bars.close",
        ),
        (
            {"indicators": "SMA(5)"},
            _arrow({**BARS, "time": np.asarray(BARS["time"], dtype=float) + 0.5}),
            "bars.time",
        ),
    ],
    ids=["no-specs", "not-arrow", "string-column", "numeric-strings", "booleans", "float-times"],
)
def test_compute_bad_arrow_request_is_422(
    client: TestClient, params: dict[str, str], content: bytes, field: str | None
) -> None:
    response = client.post(
        "/indicators/compute", params=params, content=content, headers={"content-type": ARROW_MEDIA_TYPE}
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"].get("field") == field


def test_compute_arrow_null_time_is_422_naming_the_column(client: TestClient) -> None:
    times = pa.array([None, *np.asarray(BARS["time"][1:]).tolist()], type=pa.int64())
    table = pa.table({**{k: v for k, v in BARS.items() if k != "time"}, "time": times})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)

    response = client.post(
        "/indicators/compute",
        params={"indicators": "SMA(5)"},
        content=sink.getvalue().to_pybytes(),
        headers={"content-type": ARROW_MEDIA_TYPE},
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"]["column"] == "time"


def _arrow_answer(content: bytes) -> tuple[dict[str, list[Any]], dict[bytes, bytes]]:
    table = pa.ipc.open_stream(content).read_all()
    return table.to_pydict(), table.schema.metadata


@pytest.mark.parametrize(
    ("params", "headers"),
    [({"format": "arrow"}, {}), ({}, {"accept": ARROW_MEDIA_TYPE})],
    ids=["format-param", "accept-header"],
)
def test_compute_arrow_answer_holds_the_json_columns_with_null_for_nan(
    client: TestClient, params: dict[str, str], headers: dict[str, str]
) -> None:
    specs = "SMA(20),MACD(12,26,9)"
    by_json = _post(client, json_columns(BARS), specs).json()

    response = client.post(
        "/indicators/compute",
        params=params,
        headers=headers,
        json={"bars": json_columns(BARS), "indicators": specs},
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == ARROW_MEDIA_TYPE
    columns, metadata = _arrow_answer(response.content)
    assert columns == by_json["columns"]  # same names, same order, same values, None where JSON has null
    assert columns["SMA_20"][:19] == [None] * 19
    assert orjson.loads(metadata[b"indicators"]) == by_json["indicators"]


def test_compute_arrow_in_and_arrow_out(client: TestClient) -> None:
    response = client.post(
        "/indicators/compute",
        params={"indicators": "RSI(14)", "format": "arrow"},
        content=_arrow(BARS),
        headers={"content-type": ARROW_MEDIA_TYPE},
    )

    table = pa.ipc.open_stream(response.content).read_all()
    assert table.schema.field("time").type == pa.int64()
    assert table.schema.field("RSI_14").type == pa.float64()
    rsi = table.column("RSI_14").to_numpy(zero_copy_only=False)  # nulls read back as NaN
    np.testing.assert_array_equal(rsi, talib.RSI(BARS["close"], 14))


def test_compute_unknown_format_is_422_naming_it(client: TestClient) -> None:
    response = client.post(
        "/indicators/compute",
        params={"format": "csv"},
        json={"bars": json_columns(BARS), "indicators": "SMA(5)"},
    )

    assert response.status_code == 422
    assert "format" in response.text


def test_bars_model_has_no_validators_the_fast_path_would_skip() -> None:
    """simdjson's fast path builds BarsIn from its arrays without validating them (shared.market.bar_body):
    any rule on bars must live in shared.market.bar_input, which both paths run."""
    decorators = BarsIn.__pydantic_decorators__

    assert not (decorators.model_validators or decorators.field_validators or decorators.validators)
