"""Position sizing: on the step, within limits, never risking more than asked; float == decimal rounding."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.market.symbols import DEFAULT_SYMBOLS, SymbolSpec, is_multiple
from shared.trading import SizingConfig, SizingMode, floor_to_step, position_size
from shared.trading.sizing_kernels import RELATIVE_TOLERANCE

steps = st.sampled_from([0.01, 0.1, 1.0, 0.25, 0.001, 5.0])
symbols = st.sampled_from(DEFAULT_SYMBOLS)


@settings(max_examples=500, deadline=None)
@given(raw=st.floats(0, 1e6, allow_nan=False), step=steps)
def test_floor_to_step_float_equals_decimal_normalize(raw: float, step: float) -> None:
    spec = DEFAULT_SYMBOLS[0].model_copy(update={"volume_step": step, "volume_min": step, "volume_max": 1e9})
    assert floor_to_step(raw, step, step, 1e9) == spec.normalize_volume(raw)


@settings(max_examples=300, deadline=None)
@given(
    spec=symbols,
    equity=st.floats(100, 1e7),
    risk=st.floats(0.01, 10),
    price=st.floats(0.5, 3000),
    distance_frac=st.floats(0.0005, 0.2),
)
def test_position_size_risk_mode_never_risks_more_than_asked(
    spec: SymbolSpec, equity: float, risk: float, price: float, distance_frac: float
) -> None:
    sl = price * (1 - distance_frac)
    size = position_size(
        SizingConfig(mode=SizingMode.RISK_PERCENT, value=risk), spec=spec, equity=equity, price=price, sl=sl
    )
    assert size == 0 or spec.volume_error(size) is None
    loss = size * (price - sl) * spec.contract_size
    assert loss <= equity * risk / 100 * (1 + RELATIVE_TOLERANCE)


@settings(max_examples=300, deadline=None)
@given(
    spec=symbols,
    mode=st.sampled_from(list(SizingMode)),
    value=st.floats(0.001, 1),
    equity=st.floats(10, 1e8),
    price=st.floats(0.5, 3000),
)
def test_position_size_any_mode_on_step_within_limits(
    spec: SymbolSpec, mode: SizingMode, value: float, equity: float, price: float
) -> None:
    size = position_size(
        SizingConfig(mode=mode, value=value),
        spec=spec,
        equity=equity,
        price=price,
        sl=price * 0.99,
        leverage=100,
    )
    assert size == 0 or (spec.volume_min <= size <= spec.volume_max and is_multiple(size, spec.volume_step))


def test_position_size_risk_mode_without_stop_is_zero() -> None:
    sizing = SizingConfig(mode="risk_percent", value=1)  # type: ignore[arg-type]
    assert position_size(sizing, spec=DEFAULT_SYMBOLS[0], equity=10_000, price=1.1) == 0.0


def test_sizing_config_serialises_mode_by_name_and_reads_it_back() -> None:
    """The API answered `{"mode": 1}` while requests name the mode; answers now use the request's names."""
    config = SizingConfig(mode=SizingMode.RISK_PERCENT, value=1)

    assert config.model_dump(mode="json") == {"mode": "risk_percent", "value": 1.0}
    assert SizingConfig.model_validate_json(config.model_dump_json()) == config


def test_sizing_config_schema_documents_the_mode_names() -> None:
    for mode in ("validation", "serialization"):
        schema = SizingConfig.model_json_schema(mode=mode)  # type: ignore[arg-type]
        mode_schema = schema["properties"]["mode"]
        assert mode_schema["type"] == "string", mode
        assert mode_schema["enum"] == ["fixed", "equity_fraction", "risk_percent", "all_in"], mode
