"""Fill, slippage and latency models: defaults, refused values and the slippage arithmetic."""

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeforge.backtest import FillModel, LatencyModel, SlippageModel
from tradeforge.domain import InvalidValue

D = Decimal


# FillModel


def test_fill_model_defaults_fill_at_the_next_open_without_volume_cap_or_slippage() -> None:
    model = FillModel()

    assert model.fill_at == "open"
    assert model.max_volume_fraction is None
    assert model.slippage == SlippageModel()


@pytest.mark.parametrize("fraction", ["0.0001", "0.5", "1"])
def test_fill_model_takes_a_volume_fraction_in_zero_one(fraction: str) -> None:
    assert FillModel(max_volume_fraction=D(fraction)).max_volume_fraction == D(fraction)


@pytest.mark.parametrize("fraction", ["0", "-0.1", "1.0001", "NaN", "Infinity"])
def test_fill_model_refuses_a_volume_fraction_outside_zero_one(fraction: str) -> None:
    with pytest.raises(InvalidValue, match="max_volume_fraction"):
        FillModel(max_volume_fraction=D(fraction))


def test_fill_model_is_frozen() -> None:
    model = FillModel()

    with pytest.raises(AttributeError):
        model.fill_at = "close"  # type: ignore[misc]


def test_fill_model_decodes_from_config_and_refuses_an_unknown_fill_point() -> None:
    decoded = msgspec.convert({"fill_at": "close", "max_volume_fraction": "0.25"}, FillModel)

    assert decoded == FillModel(fill_at="close", max_volume_fraction=D("0.25"))
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"fill_at": "middle"}, FillModel)


def test_fill_model_refuses_an_unknown_fill_point_when_built_in_code() -> None:
    with pytest.raises(InvalidValue, match="fill_at"):
        FillModel(fill_at="middle")  # type: ignore[arg-type]


# SlippageModel


def test_slippage_defaults_to_none() -> None:
    assert SlippageModel().ticks(D("5"), D("100")) == 0


def test_fixed_slippage_ignores_size() -> None:
    model = SlippageModel(fixed_ticks=3)

    assert model.ticks(D("0.001"), D("1000")) == 3
    assert model.ticks(D("999"), None) == 3


def test_volume_slippage_is_share_of_bar_volume_times_ticks_rounded_up() -> None:
    model = SlippageModel(fixed_ticks=1, volume_ticks=D("10"))

    # 1 of 30 is 1/3 of a tick -> 1; 15 of 30 is 5 ticks exactly; 16 of 30 is 5.33 -> 6
    assert model.ticks(D("1"), D("30")) == 1 + 1
    assert model.ticks(D("15"), D("30")) == 1 + 5
    assert model.ticks(D("16"), D("30")) == 1 + 6


@pytest.mark.parametrize("volume", [None, D(0)])
def test_volume_slippage_needs_a_bar_volume(volume: Decimal | None) -> None:
    assert SlippageModel(fixed_ticks=2, volume_ticks=D("10")).ticks(D("5"), volume) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"fixed_ticks": -1}, "fixed_ticks"),
        ({"volume_ticks": D("-0.5")}, "volume_ticks"),
        ({"volume_ticks": D("NaN")}, "volume_ticks"),
        ({"volume_ticks": D("Infinity")}, "volume_ticks"),
    ],
)
def test_slippage_refuses_negative_or_non_finite_values(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidValue, match=field):
        SlippageModel(**fields)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    fixed=st.integers(min_value=0, max_value=10),
    per_volume=st.decimals(min_value=0, max_value=100, places=2),
    small=st.integers(min_value=1, max_value=10_000),
    extra=st.integers(min_value=0, max_value=10_000),
    volume=st.integers(min_value=1, max_value=10_000),
)
def test_slippage_is_at_least_fixed_and_grows_with_size(
    fixed: int, per_volume: Decimal, small: int, extra: int, volume: int
) -> None:
    model = SlippageModel(fixed_ticks=fixed, volume_ticks=per_volume)

    less = model.ticks(D(small), D(volume))
    more = model.ticks(D(small + extra), D(volume))

    assert fixed <= less <= more


# LatencyModel


def test_latency_defaults_to_zero() -> None:
    assert LatencyModel() == LatencyModel(submit_ns=0, modify_ns=0, cancel_ns=0)


@pytest.mark.parametrize("field", ["submit_ns", "modify_ns", "cancel_ns"])
def test_latency_refuses_negative_delays(field: str) -> None:
    with pytest.raises(InvalidValue, match=field):
        LatencyModel(**{field: -1})
