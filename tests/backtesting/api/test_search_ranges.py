"""Search spaces of extreme ranges: refused with a 422 whose details serialise, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.backtesting.settings import BacktestingSettings
from tests.backtesting.api.conftest import json_bars, make_settings, open_client

MAX_COMBINATIONS = 50
BARS = json_bars(120)
WINDOWS = {"in_sample_bars": 60, "out_of_sample_bars": 30}
SEARCHES = {"/optimize": {}, "/walk-forward": WINDOWS}


@pytest.fixture(scope="module")
def app_settings(tmp_path_factory: pytest.TempPathFactory) -> BacktestingSettings:
    return make_settings(tmp_path_factory.mktemp("ranges"), max_combinations=MAX_COMBINATIONS)


@pytest.fixture(scope="module")
def client(app_settings: BacktestingSettings) -> Iterator[TestClient]:
    with open_client(app_settings) as c:
        yield c


def _search(path: str, space: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"strategy": "sma_crossover", "space": space, "bars": BARS, **SEARCHES[path], **fields}


@pytest.mark.parametrize("path", list(SEARCHES))
@pytest.mark.parametrize(
    ("space", "field"),
    [
        ({"fast": {"min": 0, "max": 1, "step": 1e-300}}, "space.fast"),  # ~1e300 combinations
        ({"fast": {"min": -1e308, "max": 1e308, "step": 5e-324}}, "space.fast"),  # infinitely many
        ({"fast": {"min": 1, "max": 8, "step": 1}, "slow": {"min": 10, "max": 17, "step": 1}}, "space"),
    ],
    ids=["huge", "infinite", "product"],
)
def test_search_space_over_the_limit_is_a_422_naming_the_field(
    client: TestClient, path: str, space: dict[str, Any], field: str
) -> None:
    response = client.post(path, json=_search(path, space))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "too_many_combinations"
    assert error["details"]["field"] == field
    assert error["details"]["max_combinations"] == MAX_COMBINATIONS


_numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 5e-324, 1e-300, 1e300, 1.7976931348623157e308, -(2**63), 2**63 - 1]),
)
_steps = st.one_of(
    st.floats(min_value=5e-324, allow_infinity=False),
    st.integers(min_value=1, max_value=2**63 - 1),
    st.sampled_from([5e-324, 1e-300, 1, 1e300]),
)
# Mostly well-formed (min <= max, step > 0), so the examples reach the search, not only validation.
_ranges = st.one_of(
    st.builds(
        lambda bounds, step: {"min": min(bounds), "max": max(bounds), "step": step},
        st.tuples(_numbers, _numbers),
        _steps,
    ),
    st.fixed_dictionaries({"min": _numbers, "max": _numbers, "step": _numbers}),
    st.fixed_dictionaries({"values": st.lists(_numbers, min_size=1, max_size=3)}),
)
_ints = st.one_of(st.integers(min_value=-(2**63), max_value=2**63 - 1), st.sampled_from([0, 1, 2, 60]))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(list(SEARCHES)),
    space=st.dictionaries(st.sampled_from(["fast", "slow"]), _ranges, min_size=1),
    extra=st.fixed_dictionaries(
        {},
        optional={
            "samples": _ints,
            "seed": _ints,
            "top_n": _ints,
            "method": st.sampled_from(["grid", "random"]),
            "in_sample_bars": _ints,
            "out_of_sample_bars": _ints,
        },
    ),
)
def test_search_extreme_ranges_are_never_a_5xx(
    client: TestClient, path: str, space: dict[str, Any], extra: dict[str, Any]
) -> None:
    response = client.post(path, json={**_search(path, space), **extra})

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}
