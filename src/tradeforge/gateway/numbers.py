"""Decimals as the API writes them: plain digits, never exponent notation.

``str(Decimal("0E-8"))`` is ``"0E-8"`` and ``str(Decimal("1E+2"))`` is ``"1E+2"``: a zero booked in
a currency of 8 decimals, or a tiny fee rate, would reach clients in a notation many parse wrong
or not at all. Every decimal in a response goes through :func:`plain`, with the precision of the
instrument (price, size) or currency (money) it belongs to where it has one: an average price,
which is exact to 28 digits, is written at the instrument's price precision.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal

from tradeforge.domain import Money, Price, Quantity

__all__ = ["plain", "plain_or_none"]

_QUANTA = tuple(Decimal(1).scaleb(-p) for p in range(29))
_WIDE = Context(prec=80)  # room for any amount at 28 decimals


def plain(value: Decimal | Price | Quantity | Money | int, places: int | None = None) -> str:
    """``value`` in plain notation (``"0.00000000"``, ``"100"``); with ``places``, rounded
    half-even to that many decimals and written with all of them. A negative zero is written
    without its sign."""
    if isinstance(value, Money):
        number = value.amount
    elif isinstance(value, Price | Quantity):
        number = value.as_decimal()
    else:
        number = Decimal(value)
    if places is not None:
        number = number.quantize(_QUANTA[places], rounding=ROUND_HALF_EVEN, context=_WIDE)
    if not number:
        number = abs(number)
    return format(number, "f")


def plain_or_none(
    value: Decimal | Price | Quantity | Money | int | None, places: int | None = None
) -> str | None:
    """:func:`plain`, None staying None."""
    return None if value is None else plain(value, places)
