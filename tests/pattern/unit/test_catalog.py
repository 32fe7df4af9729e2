"""The indicator and candlestick catalogs against TA-Lib's own metadata and C limits."""

from __future__ import annotations

import orjson
import pytest
import talib

from services.pattern.core.catalog import PATTERN_GROUP, Catalog
from services.pattern.core.ta_limits import find_library
from shared.errors import InvalidInputError


def test_indicators_catalog_covers_every_non_pattern_function(indicators: Catalog) -> None:
    groups = talib.get_function_groups()
    expected = {name for group, names in groups.items() if group != PATTERN_GROUP for name in names}
    assert set(indicators) == expected
    assert len(indicators) >= 150 - 10  # TA-Lib 0.6+ has 140 non-pattern functions
    assert {"ADD", "SIN", "BETA", "MACD", "BBANDS"} <= set(indicators)


def test_candlesticks_catalog_has_the_61_patterns(candlesticks: Catalog) -> None:
    assert len(candlesticks) == 61
    assert all(name.startswith("CDL") for name in candlesticks)


def test_function_info_reads_inputs_parameters_outputs(indicators: Catalog) -> None:
    bbands = indicators["BBANDS"]
    assert [(s.name, s.column) for s in bbands.inputs] == [("price", "close")]
    assert [p.name for p in bbands.parameters] == ["timeperiod", "nbdevup", "nbdevdn", "matype"]
    assert bbands.outputs == ("upperband", "middleband", "lowerband")
    assert [(s.name, s.column) for s in indicators["BETA"].inputs] == [("price0", "high"), ("price1", "low")]
    assert [s.column for s in indicators["ATR"].inputs] == ["high", "low", "close"]


def test_parameter_limits_come_from_ta_lib_c(indicators: Catalog) -> None:
    sma_period = indicators["SMA"].parameters[0]
    assert (sma_period.kind, sma_period.default, sma_period.minimum, sma_period.maximum) == (
        "int",
        30,
        1,
        100000,
    )
    fast = indicators["MACD"].parameter("fastperiod")
    assert fast is not None and (fast.minimum, fast.maximum) == (2, 100000)
    matype = indicators["BBANDS"].parameter("matype")
    assert matype is not None and matype.kind == "ma_type" and matype.choices is not None
    assert (0, "SMA") in matype.choices and (1, "EMA") in matype.choices
    t3_vfactor = indicators["T3"].parameter("vfactor")
    assert t3_vfactor is not None and (t3_vfactor.minimum, t3_vfactor.maximum) == (0.0, 1.0)


def test_parameter_limits_unbounded_real_is_none(indicators: Catalog) -> None:
    nbdevup = indicators["BBANDS"].parameter("nbdevup")
    assert nbdevup is not None and nbdevup.kind == "float"
    assert (nbdevup.minimum, nbdevup.maximum) == (None, None)


def test_catalog_without_c_library_has_types_but_no_ranges(tmp_path) -> None:
    catalog = Catalog.indicators(library_path=str(tmp_path / "missing.so"))
    sma_period = catalog["SMA"].parameters[0]
    assert sma_period.kind == "int" and (sma_period.minimum, sma_period.maximum) == (None, None)
    assert catalog["MA"].parameter("matype").choices is None  # type: ignore[union-attr]


def test_find_library_locates_the_wrapper_library() -> None:
    assert find_library() is not None


def test_describe_is_json_ready_and_sorted(indicators: Catalog) -> None:
    described = indicators.describe()
    assert len(described) == len(indicators)
    assert [(d["group"], d["name"]) for d in described] == sorted((d["group"], d["name"]) for d in described)
    decoded = orjson.loads(orjson.dumps(described))
    rsi = next(d for d in decoded if d["name"] == "RSI")
    assert rsi["parameters"][0] == {
        "name": "timeperiod",
        "display_name": "Time Period",
        "type": "int",
        "default": 14,
        "description": rsi["parameters"][0]["description"],
        "min": rsi["parameters"][0]["min"],
        "max": 100000,
    }


def test_resolve_is_case_insensitive(indicators: Catalog, candlesticks: Catalog) -> None:
    assert indicators.resolve(" rsi ").name == "RSI"
    assert candlesticks.resolve("hammer").name == "CDLHAMMER"
    assert candlesticks.resolve("cdlDoji").name == "CDLDOJI"


@pytest.mark.parametrize(
    ("catalog_name", "code"), [("indicators", "unknown_indicator"), ("candlesticks", "unknown_pattern")]
)
def test_resolve_unknown_name_raises_422_naming_it(catalog_name: str, code: str, request) -> None:
    catalog = request.getfixturevalue(catalog_name)
    with pytest.raises(InvalidInputError) as caught:
        catalog.resolve("NOPE")
    assert caught.value.code == code and caught.value.status_code == 422
    assert "NOPE" in caught.value.details.values()
