"""Strategy parameters: typed, ranged, parsed from command-line strings, refused with a message
that names the parameter, the value and the rule; read-only on the instance; inherited."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeforge.domain import InvalidValue
from tradeforge.strategy import ChoiceParam, DecimalParam, FloatParam, IntParam, Strategy
from tradeforge.strategy.examples.pairs_spread import PairsSpread
from tradeforge.strategy.examples.rsi_reversion import RsiReversion
from tradeforge.strategy.examples.sma_cross import SmaCross


class Tunable(Strategy):
    """One parameter of each kind, with ranges."""

    name = "tunable"
    period = IntParam(10, min=2, max=100, step=2, description="bars")
    ratio = FloatParam(0.5, min=0.0, max=1.0, description="a ratio")
    size = DecimalParam(Decimal("1.25"), min=Decimal(0), max=Decimal(10), description="lots")
    mode = ChoiceParam("fast", ["fast", "slow"], description="how")


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"period": "10"}, {"period": 10}),
        ({"period": " 12 "}, {"period": 12}),
        ({"period": 14.0}, {"period": 14}),
        ({"period": Decimal("16")}, {"period": 16}),
        ({"ratio": "0.5"}, {"ratio": 0.5}),
        ({"ratio": "1"}, {"ratio": 1.0}),
        ({"ratio": Decimal("0.25")}, {"ratio": 0.25}),
        ({"size": "1.25"}, {"size": Decimal("1.25")}),
        ({"size": 0.1}, {"size": Decimal("0.1")}),  # the float's shortest text, not its binary
        ({"size": 3}, {"size": Decimal(3)}),
        ({"mode": "slow"}, {"mode": "slow"}),
    ],
)
def test_values_from_the_command_line_are_parsed_by_the_parameter_type(
    params: dict[str, object], expected: dict[str, object]
) -> None:
    strategy = Tunable(params)

    for name, value in expected.items():
        got = getattr(strategy, name)
        assert got == value
        assert type(got) is type(value)


def test_defaults_apply_to_parameters_not_given() -> None:
    strategy = Tunable({"period": "20"})

    assert strategy.params == {
        "period": 20,
        "ratio": 0.5,
        "size": Decimal("1.25"),
        "mode": "fast",
    }


def test_a_decimal_parameter_keeps_the_exact_text() -> None:
    strategy = Tunable({"size": "1.10"})

    assert strategy.size == Decimal("1.10")
    assert str(strategy.size) == "1.10"


# ----------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "x"}, "parameter 'period' = 'x': must be an integer"),
        ({"period": "1.5"}, "parameter 'period' = '1.5': must be an integer"),
        ({"period": 2.5}, "parameter 'period' = 2.5: must be an integer"),
        ({"period": None}, "parameter 'period' = None: must be an integer"),
        ({"period": True}, "parameter 'period' = True: must be an integer, not a bool"),
        ({"period": "1"}, "parameter 'period' = '1': must be >= 2"),
        ({"period": 101}, "parameter 'period' = 101: must be <= 100"),
        ({"ratio": "half"}, "parameter 'ratio' = 'half': must be a number"),
        ({"ratio": "nan"}, "parameter 'ratio' = 'nan': must be a finite number"),
        ({"ratio": math.nan}, "parameter 'ratio' = nan: must be a finite number"),
        ({"ratio": "inf"}, "parameter 'ratio' = 'inf': must be a finite number"),
        ({"ratio": False}, "parameter 'ratio' = False: must be a number, not a bool"),
        ({"ratio": "-0.1"}, "parameter 'ratio' = '-0.1': must be >= 0.0"),
        ({"ratio": 1.5}, "parameter 'ratio' = 1.5: must be <= 1.0"),
        ({"size": "abc"}, "parameter 'size' = 'abc': must be a decimal number"),
        ({"size": "NaN"}, "parameter 'size' = 'NaN': must be finite"),
        ({"size": "sNaN"}, "parameter 'size' = 'sNaN': must be finite"),
        ({"size": "Infinity"}, "parameter 'size' = 'Infinity': must be finite"),
        ({"size": True}, "parameter 'size' = True: must be a number, not a bool"),
        ({"size": [1]}, "parameter 'size' = [1]: must be a decimal number"),
        ({"size": "-1"}, "parameter 'size' = '-1': must be >= 0"),
        ({"size": "10.01"}, "parameter 'size' = '10.01': must be <= 10"),
        ({"mode": "medium"}, "parameter 'mode' = 'medium': must be one of 'fast', 'slow'"),
        ({"mode": 1}, "parameter 'mode' = 1: must be one of 'fast', 'slow'"),
    ],
)
def test_a_bad_value_is_refused_naming_the_parameter_the_value_and_the_rule(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        Tunable(params)

    assert str(caught.value) == message


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, Decimal("NaN"), Decimal("Infinity")],
    ids=["nan", "inf", "Decimal-NaN", "Decimal-Infinity"],
)
def test_a_non_finite_number_for_an_int_parameter_is_refused_naming_it(value: object) -> None:
    with pytest.raises(InvalidValue, match="parameter 'period'"):
        Tunable({"period": value})


def test_an_unknown_parameter_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(InvalidValue) as caught:
        SmaCross({"fats": "10"})

    assert str(caught.value) == (
        "strategy sma_cross: unknown parameter 'fats' (parameters: fast, size, slow)"
    )


def test_a_strategy_without_parameters_says_so_when_given_one() -> None:
    class Bare(Strategy):
        pass

    with pytest.raises(InvalidValue, match=r"unknown parameter 'x' \(parameters: none\)"):
        Bare({"x": 1})


def test_a_bad_default_is_refused_when_the_class_is_defined() -> None:
    # Python 3.11 wraps an exception raised in __set_name__ in a RuntimeError.
    with pytest.raises((InvalidValue, RuntimeError)) as caught:

        class BadDefault(Strategy):
            period = IntParam(1, min=2)

    cause = caught.value if isinstance(caught.value, InvalidValue) else caught.value.__cause__
    assert isinstance(cause, InvalidValue)
    assert str(cause) == "parameter 'period' = 1: must be >= 2"


# ------------------------------------------------------------ cross-checks


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fast": "30", "slow": "30"}, "parameter 'fast' = 30 must be below 'slow' = 30"),
        ({"fast": "40", "slow": "30"}, "parameter 'fast' = 40 must be below 'slow' = 30"),
        ({"size": "0"}, "parameter 'size' = 0 must be positive"),
    ],
)
def test_sma_cross_checks_its_parameters_against_each_other(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValue) as caught:
        SmaCross(params)

    assert str(caught.value) == message


def test_rsi_reversion_needs_lower_below_upper() -> None:
    with pytest.raises(InvalidValue, match=r"'lower' = 70\.0 must be below 'upper' = 30\.0"):
        RsiReversion({"lower": "70", "upper": "30"})


def test_pairs_spread_needs_exit_below_entry() -> None:
    with pytest.raises(InvalidValue, match=r"'exit' = 2\.0 must be below 'entry' = 1\.0"):
        PairsSpread({"entry": "1", "exit": "2"})


def test_rsi_reversion_refuses_a_zero_size_up_front() -> None:
    with pytest.raises(InvalidValue, match="size"):
        RsiReversion({"size": "0"})


def test_check_params_sees_the_parsed_values() -> None:
    seen: list[object] = []

    class Checked(Strategy):
        period = IntParam(5)

        def check_params(self) -> None:
            seen.append(self.period)

    Checked({"period": "7"})

    assert seen == [7]


# ----------------------------------------------------------------- schema


def test_schema_describes_each_parameter_for_a_form() -> None:
    schema = {name: param.schema() for name, param in Tunable.parameters.items()}

    assert schema == {
        "period": {
            "type": "int",
            "default": 10,
            "description": "bars",
            "min": 2,
            "max": 100,
            "step": 2,
        },
        "ratio": {
            "type": "float",
            "default": 0.5,
            "description": "a ratio",
            "min": 0.0,
            "max": 1.0,
            "step": None,
        },
        "size": {
            "type": "decimal",
            "default": "1.25",
            "description": "lots",
            "min": "0",
            "max": "10",
            "step": None,
        },
        "mode": {
            "type": "choice",
            "default": "fast",
            "description": "how",
            "choices": ["fast", "slow"],
        },
    }


def test_schema_of_a_shipped_strategy_is_plain_json() -> None:
    schema = {name: param.schema() for name, param in SmaCross.parameters.items()}

    assert json.loads(json.dumps(schema)) == schema
    assert schema["fast"] == {
        "type": "int",
        "default": 10,
        "description": "fast SMA period (bars)",
        "min": 2,
        "max": 1_000,
        "step": 1,
    }
    assert schema["size"]["default"] == "1"


# ------------------------------------------------------ read-only, inherited


def test_parameters_are_read_only_on_the_instance() -> None:
    strategy = SmaCross({"fast": "5"})

    with pytest.raises(AttributeError, match="parameter 'fast' is read-only"):
        strategy.fast = 6  # type: ignore[misc]

    assert strategy.fast == 5


def test_the_params_mapping_is_a_copy() -> None:
    strategy = SmaCross({"fast": "5"})

    strategy.params["fast"] = 99

    assert strategy.fast == 5


def test_the_class_attribute_is_the_parameter_itself() -> None:
    assert isinstance(SmaCross.fast, IntParam)
    assert SmaCross.fast.name == "fast"
    assert SmaCross.fast.default == 10


def test_a_subclass_inherits_the_parents_parameters_and_adds_its_own() -> None:
    class Wider(SmaCross):
        cooldown = IntParam(3, min=0)

    strategy = Wider({"fast": "4", "cooldown": "1"})

    assert list(Wider.parameters) == ["fast", "slow", "size", "cooldown"]
    assert (strategy.fast, strategy.slow, strategy.size, strategy.cooldown) == (
        4,
        30,
        Decimal(1),
        1,
    )
    assert Wider.name == "Wider"


def test_a_subclass_may_override_a_parents_parameter_without_changing_the_parent() -> None:
    class Quicker(SmaCross):
        fast = IntParam(4, min=2)

    assert Quicker().fast == 4
    assert SmaCross().fast == 10
    assert list(Quicker.parameters) == ["fast", "slow", "size"]


def test_the_parent_check_params_still_applies_in_a_subclass() -> None:
    class Wider(SmaCross):
        cooldown = IntParam(3)

    with pytest.raises(InvalidValue, match="must be below 'slow'"):
        Wider({"fast": "50", "slow": "40"})


# ----------------------------------------------------------------- properties


@given(st.integers(min_value=2, max_value=100))
def test_an_int_parameter_round_trips_through_text(value: int) -> None:
    assert Tunable({"period": str(value)}).period == value


@given(st.decimals(min_value=0, max_value=10, allow_nan=False, allow_infinity=False, places=8))
def test_a_decimal_parameter_round_trips_through_text_exactly(value: Decimal) -> None:
    parsed = Tunable({"size": str(value)}).size

    assert parsed == value
    assert str(parsed) == str(value)


@given(st.floats(min_value=0.0, max_value=1.0))
def test_a_float_parameter_round_trips_through_repr(value: float) -> None:
    assert Tunable({"ratio": repr(value)}).ratio == value
