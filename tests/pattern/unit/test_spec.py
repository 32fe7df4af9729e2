"""Parsing specs such as `SMA(20),MACD(12,26,9)` and every validation error."""

from __future__ import annotations

import pytest

from services.pattern.core.catalog import Catalog
from services.pattern.core.spec import parse_spec, parse_specs
from shared.errors import InvalidInputError


def test_parse_specs_issue_example_resolves_positional_parameters(indicators: Catalog) -> None:
    specs = parse_specs("SMA(20),RSI(14),MACD(12,26,9),BBANDS(20,2,2)", indicators)
    assert [s.name for s in specs] == ["SMA", "RSI", "MACD", "BBANDS"]
    assert specs[2].kwargs == {"fastperiod": 12, "slowperiod": 26, "signalperiod": 9}
    assert specs[3].kwargs == {"timeperiod": 20, "nbdevup": 2.0, "nbdevdn": 2.0, "matype": 0}
    assert isinstance(specs[3].kwargs["nbdevup"], float)


def test_parse_spec_bare_name_uses_defaults_and_any_case(indicators: Catalog) -> None:
    spec = parse_spec(" rsi ", indicators)
    assert spec.name == "RSI" and spec.kwargs == {"timeperiod": 14} and spec.label == "RSI"


def test_parse_spec_keywords_fill_named_parameters(indicators: Catalog) -> None:
    spec = parse_spec("BBANDS(timeperiod=10, NBDEVDN=1.5)", indicators)
    assert spec.kwargs == {"timeperiod": 10, "nbdevup": 2.0, "nbdevdn": 1.5, "matype": 0}
    assert spec.label == "BBANDS_10_2_1.5"


def test_parse_spec_ma_type_by_name_or_number(indicators: Catalog) -> None:
    by_name = parse_spec("MA(30, ema)", indicators)
    by_number = parse_spec("MA(30,1)", indicators)
    assert by_name.kwargs == by_number.kwargs == {"timeperiod": 30, "matype": 1}
    assert by_name.label == by_number.label == "MA_30_EMA"


def test_parse_spec_input_keyword_points_slot_at_column(indicators: Catalog) -> None:
    spec = parse_spec("SMA(20, price=High)", indicators)
    assert spec.columns == ("high",) and spec.label == "SMA_20_high"
    assert parse_spec("SMA(20, price=close)", indicators).label == "SMA_20"


@pytest.mark.parametrize(
    ("text", "label", "columns"),
    [
        ("SMA(20)", "SMA_20", ("SMA_20",)),
        ("MACD", "MACD", ("MACD_macd", "MACD_macdsignal", "MACD_macdhist")),
        ("STOCH(5,3)", "STOCH_5_3", ("STOCH_5_3_slowk", "STOCH_5_3_slowd")),
        (
            "BBANDS(nbdevup=3)",
            "BBANDS_20_3",
            ("BBANDS_20_3_upperband", "BBANDS_20_3_middleband", "BBANDS_20_3_lowerband"),
        ),
    ],
)
def test_spec_output_columns_follow_the_label_scheme(
    indicators: Catalog, text: str, label: str, columns: tuple[str, ...]
) -> None:
    spec = parse_spec(text, indicators)
    assert spec.label == label and spec.output_columns == columns


def test_parse_specs_same_indicator_twice_gets_distinct_columns(indicators: Catalog) -> None:
    specs = parse_specs("SMA(20),SMA(50),SMA(20)", indicators)
    assert [s.label for s in specs] == ["SMA_20", "SMA_50"]


def test_parse_specs_pattern_catalog_accepts_short_names_and_parameters(candlesticks: Catalog) -> None:
    specs = parse_specs("hammer,CDLMORNINGSTAR(0.5)", candlesticks)
    assert [s.name for s in specs] == ["CDLHAMMER", "CDLMORNINGSTAR"]
    assert specs[1].kwargs == {"penetration": 0.5}


def test_spec_to_dict_maps_outputs_to_columns(indicators: Catalog) -> None:
    described = parse_spec("AROON(10)", indicators).to_dict()
    assert described == {
        "label": "AROON_10",
        "name": "AROON",
        "parameters": {"timeperiod": 10},
        "inputs": {"high": "high", "low": "low"},
        "columns": {"aroondown": "AROON_10_aroondown", "aroonup": "AROON_10_aroonup"},
    }


def _error(text: str, catalog: Catalog) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        parse_specs(text, catalog)
    assert caught.value.status_code == 422
    return caught.value


def test_parse_unknown_indicator_names_it(indicators: Catalog) -> None:
    error = _error("SMA(20),FOO(3)", indicators)
    assert error.code == "unknown_indicator" and error.details == {"indicator": "FOO"}


@pytest.mark.parametrize(
    ("text", "parameter", "reason"),
    [
        ("SMA(abc)", "timeperiod", "expected an integer"),
        ("SMA(20.5)", "timeperiod", "expected an integer"),
        ("BBANDS(20,x)", "nbdevup", "expected a number"),
        ("BBANDS(20,nan)", "nbdevup", "expected a finite number"),
        ("MA(30,FOO)", "matype", "unknown MA type"),
        ("MA(30,99)", "matype", "not an allowed value"),
        ("SMA(0)", "timeperiod", "out of range [1, 100000]"),
        ("SMA(100001)", "timeperiod", "out of range [1, 100000]"),
        ("T3(5,1.5)", "vfactor", "out of range [0.0, 1.0]"),
        ("SMA(timeperiod=5,timeperiod=6)", "timeperiod", "given twice"),
        ("SMA(20,timeperiod=6)", "timeperiod", "given twice"),
        ("SMA(period=5)", "period", "no such parameter or input"),
        ("SMA(price=5)", "price", "an input takes a column name such as high or close"),
    ],
)
def test_parse_invalid_parameter_names_indicator_and_parameter(
    indicators: Catalog, text: str, parameter: str, reason: str
) -> None:
    error = _error(text, indicators)
    assert error.code == "invalid_parameter"
    assert error.details["indicator"] == text.split("(")[0]
    assert error.details["parameter"] == parameter and error.details["reason"] == reason


def test_parse_too_many_parameters_reports_counts(indicators: Catalog) -> None:
    error = _error("RSI(14,3)", indicators)
    assert error.code == "invalid_parameter"
    assert error.details["indicator"] == "RSI"
    assert (error.details["expected_count"], error.details["given_count"]) == (1, 2)


def test_parse_positional_after_keyword_is_rejected(indicators: Catalog) -> None:
    error = _error("BBANDS(timeperiod=20,2)", indicators)
    assert error.code == "invalid_parameter" and error.details["indicator"] == "BBANDS"


def test_parse_pattern_errors_say_pattern(candlesticks: Catalog) -> None:
    assert _error("CDLFOO", candlesticks).details == {"pattern": "CDLFOO"}
    error = _error("CDLMORNINGSTAR(-1)", candlesticks)
    assert error.details["pattern"] == "CDLMORNINGSTAR" and error.details["parameter"] == "penetration"


@pytest.mark.parametrize("text", ["", " , ", "SMA(20", "SMA)20(", "SMA 20", "SMA(20)x"])
def test_parse_malformed_text_is_invalid_spec(indicators: Catalog, text: str) -> None:
    assert _error(text, indicators).code == "invalid_spec"


def test_parse_name_starting_with_a_digit_is_a_name(indicators: Catalog, candlesticks: Catalog) -> None:
    assert _error("1SMA", indicators).code == "unknown_indicator"
    assert [s.label for s in parse_specs("3whitesoldiers,CDL3BLACKCROWS", candlesticks)] == [
        "CDL3WHITESOLDIERS",
        "CDL3BLACKCROWS",
    ]


def test_parse_specs_over_the_limit_is_invalid_spec(indicators: Catalog) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_specs("SMA(2),SMA(3),SMA(4)", indicators, max_specs=2)
    assert caught.value.code == "invalid_spec" and caught.value.details == {"count": 3, "max": 2}
