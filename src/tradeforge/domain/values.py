"""Exact ``Price`` and ``Quantity``.

Each holds a ``Decimal`` whose exponent is its precision: ``Price("1.20")`` has precision 2.
They are built from str, int or Decimal; a float goes through an instrument, which rounds it to
the tick or lot (``instrument.make_price(1.2)``). Adding or subtracting two values of one type
gives that type, at the larger precision; multiplying or dividing gives a plain ``Decimal``. A
``Quantity`` is never negative. NaN, infinity and values with more decimals than the stated
precision are refused.

The constructor takes any object and refuses what is not a str, int or Decimal with
``InvalidValue`` (so its parameter is typed ``object``). This module is compiled with mypyc
(``tradeforge._native``): the values are C structs, read-only after construction.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar, Final, Self, TypeVar, cast

from mypy_extensions import mypyc_attr

from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.exact import (
    MAX_PRECISION,
    decimals_of,
    exact_add,
    exact_multiply,
    exact_quantize,
    exact_scaleb,
    exact_subtract,
    fit_precision,
    to_decimal,
)
from tradeforge.domain.frozen import freeze

__all__ = ["Price", "Quantity"]

_QUANTA: Final = tuple(Decimal(1).scaleb(-p) for p in range(MAX_PRECISION + 1))


@mypyc_attr(acyclic=True)
class _ExactValue:
    __slots__ = ("_precision", "_value")
    field: ClassVar[str] = "value"
    signed: ClassVar[bool] = True

    def __init__(
        self, value: object, precision: int | None = None, *, _exact: bool = False
    ) -> None:
        # ``_exact``: ``value`` is a Decimal already at ``precision`` decimals (its exponent is
        # -precision) and of an allowed sign, e.g. the result of exact arithmetic on valid
        # values; nothing is checked. Only this package passes it.
        if _exact and type(value) is Decimal and precision is not None:
            exact = value
            places = precision
        else:
            raw = to_decimal(self.field, value)
            places = decimals_of(raw) if precision is None else precision
            exact = fit_precision(self.field, raw, places)
            if not self.signed and exact < 0:
                raise InvalidValue(f"{self.field} must not be negative, got {value}")
        self._value: Final[Decimal] = exact
        self._precision: Final[int] = places

    @classmethod
    def _trusted(cls, value: Decimal, precision: int) -> Self:
        # For results of exact arithmetic on already valid values: skips re-validation.
        return _make(cls, value, precision)

    @classmethod
    def from_raw(cls, raw: int, precision: int) -> Self:
        """``raw * 10**-precision``: the fast way in from scaled integers (e.g. bar arrays)."""
        if not 0 <= precision <= MAX_PRECISION:
            raise InvalidValue(f"{cls.field} precision must be 0..{MAX_PRECISION}, got {precision}")
        if raw < 0 and not cls.signed:
            raise InvalidValue(f"{cls.field} must not be negative, got raw {raw}")
        return _make(cls, exact_scaleb(Decimal(raw), -precision), precision)

    @classmethod
    def from_decimal(cls, value: Decimal, precision: int) -> Self:
        """``value`` at ``precision`` decimals (refused if it needs more): skips parsing."""
        return _make(cls, _at_precision(cls.field, cls.signed, value, precision), precision)

    @classmethod
    def from_str(cls, value: str) -> Self:
        """Parse the string form; the precision is the number of decimals written."""
        return cls(value)

    @property
    def precision(self) -> int:
        """Digits after the decimal point."""
        return self._precision

    def as_decimal(self) -> Decimal:
        """The exact value."""
        return self._value

    def as_float(self) -> float:
        """A float for charts and indicators; never feed it back into money arithmetic."""
        return float(self._value)

    def is_zero(self) -> bool:
        """True for 0 at any precision."""
        return not self._value

    # arithmetic: same type in, same type out (at the larger precision)
    def __add__(self, other: object) -> Self:
        if type(other) is not type(self) or not isinstance(other, _ExactValue):
            return NotImplemented
        return self._checked(exact_add(self._value, other._value), other._precision)

    def __sub__(self, other: object) -> Self:
        if type(other) is not type(self) or not isinstance(other, _ExactValue):
            return NotImplemented
        return self._checked(exact_subtract(self._value, other._value), other._precision)

    def _checked(self, result: Decimal, other_precision: int) -> Self:
        if result < 0 and not self.signed:
            raise InvalidValue(f"{self.field} must not be negative, got {result}")
        return _make(type(self), result, max(self._precision, other_precision))

    def __mul__(self, other: object) -> Decimal:
        operand = _scalar(other)
        if operand is None:
            return NotImplemented
        return exact_multiply(self._value, operand)

    def __rmul__(self, other: object) -> Decimal:
        operand = _scalar(other)
        if operand is None:
            return NotImplemented
        return exact_multiply(self._value, operand)

    def __truediv__(self, other: object) -> Decimal:
        """Division can be inexact, so it rounds to 28 significant digits (Decimal's default)."""
        operand = _scalar(other)
        if operand is None:
            return NotImplemented
        return self._value / operand

    # comparison: with the same type, or with plain numbers
    def _operand(self, other: object) -> Decimal | None:
        if type(other) is type(self) and isinstance(other, _ExactValue):
            return other._value
        if isinstance(other, Decimal):
            return other
        if isinstance(other, int) and not isinstance(other, bool):
            return Decimal(other)
        return None

    def __eq__(self, other: object) -> bool:
        operand = self._operand(other)
        return operand is not None and self._value == operand

    def __hash__(self) -> int:
        return hash(self._value)

    def __lt__(self, other: object) -> bool:
        operand = self._operand(other)
        if operand is None:
            return NotImplemented
        return self._value < operand

    def __le__(self, other: object) -> bool:
        operand = self._operand(other)
        if operand is None:
            return NotImplemented
        return self._value <= operand

    def __gt__(self, other: object) -> bool:
        operand = self._operand(other)
        if operand is None:
            return NotImplemented
        return self._value > operand

    def __ge__(self, other: object) -> bool:
        operand = self._operand(other)
        if operand is None:
            return NotImplemented
        return self._value >= operand

    def __bool__(self) -> bool:
        return bool(self._value)

    def __str__(self) -> str:
        return f"{self._value:f}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self}')"

    def __reduce__(self) -> tuple[type[Self], tuple[str]]:
        return (type(self), (str(self),))


def _scalar(other: object) -> Decimal | None:
    """The Decimal a value multiplies or divides by (another value, an int or a Decimal)."""
    if isinstance(other, _ExactValue):
        return other._value
    if isinstance(other, Decimal):
        return other
    if isinstance(other, int) and not isinstance(other, bool):
        return Decimal(other)
    return None


def _at_precision(field: str, signed: bool, value: Decimal, precision: int) -> Decimal:
    if 0 <= precision <= MAX_PRECISION:
        try:
            exact = exact_quantize(value, _QUANTA[precision])
        except ArithmeticError:
            exact = fit_precision(field, value, precision)  # raises the right message
        if not exact:
            exact = exact.copy_abs()
    else:
        exact = fit_precision(field, value, precision)
    if exact < 0 and not signed:
        raise InvalidValue(f"{field} must not be negative, got {value}")
    return exact


@mypyc_attr(acyclic=True)
class Price(_ExactValue):
    """An exact price; may be negative (spreads, some futures)."""

    __slots__ = ()
    field = "price"
    signed = True

    def __neg__(self) -> Price:
        return Price(-self._value if self._value else self._value, self._precision, _exact=True)


@mypyc_attr(acyclic=True)
class Quantity(_ExactValue):
    """An exact, non-negative quantity."""

    __slots__ = ()
    field = "quantity"
    signed = False


_V = TypeVar("_V", bound=_ExactValue)


def _make(cls: type[_V], value: Decimal, precision: int) -> _V:
    """A value of ``cls`` from an exact ``value`` at ``precision`` (no checks); the two
    concrete types are built directly (a call through ``cls`` costs an argument parse)."""
    if cls is Price:
        return cast(_V, Price(value, precision, _exact=True))
    if cls is Quantity:
        return cast(_V, Quantity(value, precision, _exact=True))
    return cls(value, precision, _exact=True)


freeze(Price, Quantity)
