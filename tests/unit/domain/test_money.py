import pickle
import re
from decimal import ROUND_DOWN, ROUND_UP, Decimal

import pytest
from hypothesis import given, settings
from tests.kit.strategies import currencies, money
from tests.kit.stubs import BTC, EUR, USD, USDT

from tradeforge.domain import KNOWN_CURRENCIES, Currency, CurrencyKind, InvalidValue, Money

JPY = KNOWN_CURRENCIES["JPY"]


# Currency


def test_known_currency_parses_from_its_code() -> None:
    assert Currency.from_str("USD") is USD
    assert USD.precision == 2
    assert USD.kind is CurrencyKind.FIAT
    assert BTC.kind is CurrencyKind.CRYPTO


def test_unknown_currency_parses_with_an_explicit_precision() -> None:
    currency = Currency.from_str("XYZ:6")

    assert currency == Currency("XYZ", 6)
    assert currency.precision == 6
    assert currency.kind is CurrencyKind.CRYPTO


def test_known_code_with_another_precision_keeps_the_known_kind() -> None:
    currency = Currency.from_str("USD:4")

    assert currency.precision == 4
    assert currency.kind is CurrencyKind.FIAT
    assert currency != USD


def test_unknown_currency_without_precision_is_refused_showing_how_to_write_it() -> None:
    with pytest.raises(InvalidValue, match="unknown currency 'XYZ': write it as CODE:PRECISION"):
        Currency.from_str("XYZ")


@pytest.mark.parametrize("text", ["XYZ:", "XYZ:x", "XYZ:-1"])
def test_currency_precision_that_is_not_a_number_is_refused(text: str) -> None:
    with pytest.raises(InvalidValue, match="currency precision must be a number"):
        Currency.from_str(text)


@pytest.mark.parametrize("code", ["usd", "", "US D", "X" * 17, "US$"])
def test_bad_currency_code_is_refused(code: str) -> None:
    with pytest.raises(InvalidValue, match="currency code must be 1-16"):
        Currency(code, 2)


@pytest.mark.parametrize("precision", [-1, 19])
def test_currency_precision_out_of_range_is_refused(precision: int) -> None:
    with pytest.raises(InvalidValue, match=r"currency XYZ precision must be 0\.\.18"):
        Currency("XYZ", precision)


def test_currency_precision_must_be_an_int() -> None:
    with pytest.raises(InvalidValue, match="precision must be an int"):
        Currency("XYZ", True)


def test_currency_code_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidValue):
        Currency("USD\n", 2)


def test_currency_to_str_is_the_code_for_a_known_currency_else_code_and_precision() -> None:
    assert USD.to_str() == "USD"
    assert Currency("USD", 4).to_str() == "USD:4"
    assert Currency("XYZ", 6).to_str() == "XYZ:6"
    assert str(Currency("XYZ", 6)) == "XYZ"
    assert repr(USDT) == "Currency('USDT', 8)"


@settings(deadline=None)
@given(currency=currencies())
def test_currency_to_str_round_trips(currency: Currency) -> None:
    assert Currency.from_str(currency.to_str()) == currency


def test_currency_is_immutable_and_pickles() -> None:
    with pytest.raises(AttributeError, match=r"immutable|not writable"):
        USD._precision = 3
    assert pickle.loads(pickle.dumps(Currency("XYZ", 6))) == Currency("XYZ", 6)


# Money construction


def test_money_is_booked_at_the_currency_precision() -> None:
    amount = Money("1.5", USD)

    assert amount.amount == Decimal("1.50")
    assert str(amount) == "1.50 USD"
    assert repr(amount) == "Money('1.50', USD)"


def test_money_with_more_decimals_than_the_currency_is_refused_naming_the_currency() -> None:
    with pytest.raises(InvalidValue, match=r"money amount \(USD\) 1\.005 has more than 2 decimals"):
        Money("1.005", USD)


def test_money_from_a_float_is_refused() -> None:
    with pytest.raises(InvalidValue, match="money amount cannot be built from float"):
        Money(1.5, USD)  # type: ignore[arg-type]


def test_money_needs_a_currency_object() -> None:
    with pytest.raises(InvalidValue, match="money currency must be a Currency"):
        Money("1", "USD")  # type: ignore[arg-type]


def test_money_rounds_half_even_by_default() -> None:
    assert Money.rounded(Decimal("1.005"), USD) == Money("1.00", USD)
    assert Money.rounded(Decimal("1.015"), USD) == Money("1.02", USD)
    assert Money.rounded("2.5", JPY) == Money("2", JPY)
    assert Money.rounded("-2.5", JPY) == Money("-2", JPY)


def test_money_rounds_with_a_named_mode() -> None:
    assert Money.rounded(Decimal("1.009"), USD, ROUND_DOWN) == Money("1.00", USD)
    assert Money.rounded(Decimal("1.001"), USD, ROUND_UP) == Money("1.01", USD)


def test_money_zero() -> None:
    assert Money.zero(BTC).is_zero()
    assert str(Money.zero(BTC)) == "0.00000000 BTC"


# Money arithmetic and comparison


@settings(deadline=None)
@given(a=money(USDT), b=money(USDT))
def test_money_plus_then_minus_the_same_amount_is_unchanged(a: Money, b: Money) -> None:
    assert a + b - b == a


def test_money_adds_and_subtracts_exactly() -> None:
    assert Money("0.10", USD) + Money("0.20", USD) == Money("0.30", USD)
    assert Money("1.00", USD) - Money("2.50", USD) == Money("-1.50", USD)
    assert -Money("1.50", USD) == Money("-1.50", USD)
    assert abs(Money("-1.50", USD)) == Money("1.50", USD)
    assert str(-Money.zero(USD)) == "0.00 USD"


def test_money_in_different_currencies_cannot_be_added_or_subtracted() -> None:
    with pytest.raises(InvalidValue, match="cannot add EUR and USD money"):
        _ = Money("1", USD) + Money("1", EUR)
    with pytest.raises(InvalidValue, match="cannot subtract EUR and USD money"):
        _ = Money("1", USD) - Money("1", EUR)


def test_money_in_different_currencies_cannot_be_ordered() -> None:
    with pytest.raises(InvalidValue, match="cannot compare EUR and USD money"):
        _ = Money("1", USD) < Money("2", EUR)


def test_same_code_at_another_precision_is_another_currency() -> None:
    with pytest.raises(InvalidValue, match="cannot add"):
        _ = Money("1", USD) + Money("1", Currency("USD", 4))


def test_money_in_different_currencies_is_never_equal() -> None:
    assert Money("1", USD) != Money("1", EUR)


def test_money_orders_within_one_currency() -> None:
    small, large = Money("1.00", USD), Money("2.00", USD)

    assert small < large
    assert small <= large
    assert large > small
    assert large >= small


def test_money_cannot_be_ordered_against_a_plain_number() -> None:
    with pytest.raises(TypeError, match="cannot compare Money with int"):
        _ = Money("1", USD) < 2  # type: ignore[operator]
    assert Money("1", USD) != 1


def test_adding_a_number_to_money_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Money("1", USD) + 1  # type: ignore[operator]


def test_money_times_a_number_is_an_exact_decimal() -> None:
    assert Money("1.50", USD) * 3 == Decimal("4.50")
    assert Decimal("0.1") * Money("1.50", USD) == Decimal("0.150")
    with pytest.raises(TypeError):
        _ = Money("1", USD) * 1.5  # type: ignore[operator]


def test_equal_money_hashes_alike() -> None:
    assert hash(Money("1.5", USD)) == hash(Money("1.50", USD))
    assert len({Money("1", USD), Money("1.00", USD)}) == 1


# Money string form


@settings(deadline=None)
@given(amount=money())
def test_money_str_round_trips_including_unknown_currencies(amount: Money) -> None:
    parsed = Money.from_str(str(amount))

    assert parsed == amount
    assert parsed.currency.precision == amount.currency.precision


def test_money_of_an_unknown_currency_writes_its_precision() -> None:
    amount = Money("0.1", Currency("XYZ", 6))

    assert str(amount) == "0.100000 XYZ:6"
    assert Money.from_str("0.1 XYZ:6") == amount


def test_money_without_a_currency_is_refused() -> None:
    with pytest.raises(InvalidValue, match=re.escape("money must look like '1.50 USD'")):
        Money.from_str("1.50")


def test_money_is_immutable_and_pickles() -> None:
    amount = Money("1.50", USD)

    with pytest.raises(AttributeError, match=r"immutable|not writable"):
        amount._amount = Decimal(2)
    assert pickle.loads(pickle.dumps(amount)) == amount
