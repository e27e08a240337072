"""``plain``: every decimal the API writes, in plain notation at its precision."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradeforge.domain import Currency, Money, Price, Quantity
from tradeforge.gateway.numbers import plain, plain_or_none


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        (Decimal("0E-8"), None, "0.00000000"),
        (Decimal("1E+2"), None, "100"),
        (Decimal("1E-7"), None, "0.0000001"),
        (Decimal("-0.00"), None, "0.00"),
        (Decimal("100.015"), 2, "100.02"),  # half-even: an average price at the tick's decimals
        (Decimal("100.025"), 2, "100.02"),
        (Decimal("33.33333333333333333333333333"), 2, "33.33"),
        (Decimal(5), 3, "5.000"),
        (Decimal("-0.0001"), 2, "0.00"),  # rounded to zero: no sign
        (Decimal("12345678901234567890.123"), 8, "12345678901234567890.12300000"),
        (Price("0.00000001"), None, "0.00000001"),
        (Quantity("0.01000"), None, "0.01000"),
        (Money("0", Currency("USDT", 8)), None, "0.00000000"),
        (7, None, "7"),
    ],
)
def test_plain_writes_digits_only(value: object, places: int | None, text: str) -> None:
    assert plain(value, places) == text  # type: ignore[arg-type]


def test_none_stays_none() -> None:
    assert plain_or_none(None, 2) is None
    assert plain_or_none(Decimal("2E+1"), 1) == "20.0"
