import copy
import pickle
from decimal import Decimal

import pytest
from hypothesis import given, settings
from tests.kit.strategies import prices, quantities

from tradeforge.domain import InvalidValue, Price, Quantity

VALUE_TYPES = [Price, Quantity]


# construction


@pytest.mark.parametrize(
    ("text", "precision"), [("1.20", 2), ("1", 0), ("0.000000001", 9), ("-3.5", 1)]
)
def test_price_precision_is_the_number_of_decimals_written(text: str, precision: int) -> None:
    price = Price(text)

    assert price.precision == precision
    assert str(price) == text


def test_price_from_decimal_keeps_the_decimal_exponent() -> None:
    assert Price(Decimal("1.500")).precision == 3


def test_explicit_precision_pads_the_value() -> None:
    price = Price("1.2", 4)

    assert str(price) == "1.2000"
    assert price.precision == 4


def test_int_builds_a_whole_value() -> None:
    assert str(Quantity(5)) == "5"


def test_exponent_notation_is_written_out() -> None:
    assert str(Price("1e3")) == "1000"


def test_value_with_more_decimals_than_its_precision_is_refused_naming_both() -> None:
    with pytest.raises(InvalidValue, match=r"price 1\.234 has more than 2 decimals"):
        Price("1.234", 2)


def test_precision_beyond_eighteen_is_refused() -> None:
    with pytest.raises(InvalidValue, match=r"price precision must be 0\.\.18, got 20"):
        Price("1E-20")


@pytest.mark.parametrize("value_type", VALUE_TYPES)
def test_float_is_refused_pointing_at_instrument_make_price(value_type: type[Price]) -> None:
    with pytest.raises(InvalidValue, match=r"cannot be built from float 1\.5") as refused:
        value_type(1.5)  # type: ignore[arg-type]

    assert "instrument.make_price" in str(refused.value)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("NaN", "price must be finite"),
        ("sNaN", "price must be finite"),
        ("Infinity", "price must be finite"),
        ("-Infinity", "price must be finite"),
        ("abc", "price is not a number: 'abc'"),
        ("", "price is not a number"),
        (True, "price must be a number, got bool True"),
        (None, "price must be str, int or Decimal, got NoneType"),
        (Decimal("NaN"), "price must be finite"),
    ],
)
def test_non_numbers_are_refused_naming_the_field(bad: object, message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        Price(bad)  # type: ignore[arg-type]


def test_quantity_names_its_own_field_when_refused() -> None:
    with pytest.raises(InvalidValue, match="quantity is not a number"):
        Quantity("lots")


def test_negative_quantity_is_refused() -> None:
    with pytest.raises(InvalidValue, match="quantity must not be negative, got -1"):
        Quantity("-1")


def test_negative_price_is_allowed() -> None:
    assert Price("-0.50") < 0


def test_value_too_large_to_hold_exactly_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidValue, match="price"):
        Price("1e50", 18)


def test_negative_zero_quantity_prints_as_zero() -> None:
    assert str(Quantity("-0")) == "0"


# string round trip


@settings(deadline=None)
@given(price=prices())
def test_price_str_round_trips_with_its_precision(price: Price) -> None:
    parsed = Price.from_str(str(price))

    assert parsed == price
    assert parsed.precision == price.precision


@settings(deadline=None)
@given(quantity=quantities())
def test_quantity_str_round_trips_with_its_precision(quantity: Quantity) -> None:
    parsed = Quantity.from_str(str(quantity))

    assert parsed == quantity
    assert parsed.precision == quantity.precision


def test_repr_shows_the_exact_string() -> None:
    assert repr(Price("1.20")) == "Price('1.20')"
    assert repr(Quantity("3")) == "Quantity('3')"


# arithmetic


@settings(deadline=None)
@given(a=prices(), b=prices())
def test_price_plus_then_minus_the_same_price_is_unchanged(a: Price, b: Price) -> None:
    assert a + b - b == a


@settings(deadline=None)
@given(a=quantities(), b=quantities())
def test_quantity_plus_then_minus_the_same_quantity_is_unchanged(a: Quantity, b: Quantity) -> None:
    assert a + b - b == a


@settings(deadline=None)
@given(a=prices(), b=prices())
def test_precision_of_a_sum_or_difference_is_the_larger_precision(a: Price, b: Price) -> None:
    expected = max(a.precision, b.precision)

    assert (a + b).precision == expected
    assert (a - b).precision == expected
    assert type(a + b) is Price


def test_sum_of_two_quantities_is_exact() -> None:
    total = Quantity("0.1") + Quantity("0.20")

    assert total == Quantity("0.30")
    assert str(total) == "0.30"


def test_subtraction_below_zero_is_refused_for_quantity() -> None:
    with pytest.raises(InvalidValue, match=r"quantity must not be negative, got -0\.5"):
        _ = Quantity("1.0") - Quantity("1.5")


def test_subtraction_below_zero_is_allowed_for_price() -> None:
    assert Price("1.0") - Price("1.5") == Price("-0.5")


def test_negating_a_price_keeps_its_precision_and_never_gives_negative_zero() -> None:
    assert str(-Price("1.50")) == "-1.50"
    assert str(-Price("0.00")) == "0.00"


@pytest.mark.parametrize("other", [Quantity("1"), 1, Decimal("1")])
def test_adding_anything_but_the_same_type_is_a_type_error(other: object) -> None:
    with pytest.raises(TypeError):
        _ = Price("1") + other  # type: ignore[operator]


def test_price_plus_quantity_is_a_type_error_both_ways() -> None:
    with pytest.raises(TypeError):
        _ = Price("1") + Quantity("1")  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = Quantity("1") - Price("1")  # type: ignore[operator]


def test_multiplying_gives_an_exact_decimal() -> None:
    assert Price("100.25") * Quantity("0.003") == Decimal("0.30075")
    assert Quantity("2.5") * 2 == Decimal("5.0")
    assert 3 * Price("1.1") == Decimal("3.3")
    assert Price("1.1") * Decimal("0.5") == Decimal("0.55")


@pytest.mark.parametrize("other", [1.5, True, "2"])
def test_multiplying_by_float_bool_or_str_is_a_type_error(other: object) -> None:
    with pytest.raises(TypeError):
        _ = Price("1") * other  # type: ignore[operator]


def test_dividing_gives_a_decimal() -> None:
    assert Price("10") / 4 == Decimal("2.5")
    assert Price("1") / Quantity("3") == Decimal(1) / Decimal(3)


# comparison and hashing


def test_values_compare_with_int_and_decimal() -> None:
    price = Price("1.50")

    assert price > 1
    assert price < 2
    assert price >= Decimal("1.5")
    assert price <= Decimal("1.50")
    assert Price("2.00") == 2
    assert Price("1.5") == Decimal("1.50")


def test_comparing_with_a_float_is_a_type_error_and_never_equal() -> None:
    with pytest.raises(TypeError):
        _ = Price("1.5") < 1.5
    assert Price("1.5") != 1.5


def test_comparing_with_bool_is_never_equal() -> None:
    assert Quantity("1") != True  # noqa: E712
    with pytest.raises(TypeError):
        _ = Quantity("1") < True


def test_price_and_quantity_of_the_same_number_are_not_equal() -> None:
    assert Price("1") != Quantity("1")
    with pytest.raises(TypeError):
        _ = Price("1") < Quantity("2")


def test_equal_values_at_different_precisions_are_equal_and_hash_alike() -> None:
    assert Price("1.2") == Price("1.20")
    assert hash(Price("1.2")) == hash(Price("1.20"))
    assert len({Quantity("1.2"), Quantity("1.20"), Quantity("1.200")}) == 1


def test_zero_is_falsy_at_any_precision() -> None:
    assert Quantity("0.000").is_zero()
    assert not Quantity("0.000")
    assert Quantity("0.001")


# immutability, conversion, pickling


@pytest.mark.parametrize("value_type", VALUE_TYPES)
def test_values_are_immutable(value_type: type[Price]) -> None:
    value = value_type("1.5")

    with pytest.raises(AttributeError, match=r"immutable|not writable"):
        value._value = Decimal(2)
    with pytest.raises(AttributeError):
        value.extra = 1


def test_as_decimal_and_as_float() -> None:
    price = Price("1.25")

    assert price.as_decimal() == Decimal("1.25")
    assert price.as_float() == 1.25


@settings(deadline=None)
@given(price=prices())
def test_pickling_keeps_value_type_and_precision(price: Price) -> None:
    restored = pickle.loads(pickle.dumps(price))

    assert restored == price
    assert type(restored) is Price
    assert restored.precision == price.precision


def test_copy_keeps_a_quantity_intact() -> None:
    quantity = Quantity("0.250")

    assert str(copy.deepcopy(quantity)) == "0.250"
