"""Exact ``Price`` and ``Quantity``.

Each holds a ``Decimal`` whose exponent is its precision: ``Price("1.20")`` has precision 2.
They are built from str, int or Decimal; a float goes through an instrument, which rounds it to
the tick or lot (``instrument.make_price(1.2)``). Adding or subtracting two values of one type
gives that type, at the larger precision; multiplying or dividing gives a plain ``Decimal``. A
``Quantity`` is never negative. NaN, infinity and values with more decimals than the stated
precision are refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar, Final, Self, cast

from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.exact import EXACT, MAX_PRECISION, decimals_of, fit_precision, to_decimal

__all__ = ["Price", "Quantity"]

_Scalar = int | Decimal


class _ExactValue:
    __slots__ = ("_precision", "_value")
    field: ClassVar[str]
    signed: ClassVar[bool]
    _value: Decimal
    _precision: int

    def __init__(self, value: str | int | Decimal, precision: int | None = None) -> None:
        raw = to_decimal(self.field, value)
        exact = fit_precision(self.field, raw, decimals_of(raw) if precision is None else precision)
        if not self.signed and exact < 0:
            raise InvalidValue(f"{self.field} must not be negative, got {value}")
        object.__setattr__(self, "_value", exact)

    @classmethod
    def _trusted(cls, value: Decimal) -> Self:
        # For results of exact arithmetic on already valid values: skips re-validation.
        obj = _new(cls)
        _set_value(obj, value)
        return obj

    @classmethod
    def from_raw(cls, raw: int, precision: int) -> Self:
        """``raw * 10**-precision``: the fast way in from scaled integers (e.g. bar arrays)."""
        if not 0 <= precision <= MAX_PRECISION:
            raise InvalidValue(f"{cls.field} precision must be 0..{MAX_PRECISION}, got {precision}")
        if raw < 0 and not cls.signed:
            raise InvalidValue(f"{cls.field} must not be negative, got raw {raw}")
        obj = _new(cls)
        _set_value(obj, _scaleb(Decimal(raw), -precision))
        _set_precision(obj, precision)
        return obj

    @classmethod
    def from_decimal(cls, value: Decimal, precision: int) -> Self:
        """``value`` at ``precision`` decimals (refused if it needs more): skips parsing."""
        if 0 <= precision <= MAX_PRECISION:
            try:
                exact = value.quantize(_QUANTA[precision], context=EXACT)
            except ArithmeticError:
                exact = fit_precision(cls.field, value, precision)  # raises the right message
            if not exact:
                exact = exact.copy_abs()
        else:
            exact = fit_precision(cls.field, value, precision)
        if exact < 0 and not cls.signed:
            raise InvalidValue(f"{cls.field} must not be negative, got {value}")
        obj = _new(cls)
        _set_value(obj, exact)
        _set_precision(obj, precision)
        return obj

    @classmethod
    def from_str(cls, value: str) -> Self:
        """Parse the string form; the precision is the number of decimals written."""
        return cls(value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    @property
    def precision(self) -> int:
        """Digits after the decimal point."""
        try:
            return self._precision
        except AttributeError:  # worked out once, on first use
            object.__setattr__(self, "_precision", decimals_of(self._value))
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

    # arithmetic: same type in, same type out
    def __add__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return self._checked(EXACT.add(self._value, other._value))

    def __sub__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return self._checked(EXACT.subtract(self._value, other._value))

    def _checked(self, result: Decimal) -> Self:
        if result < 0 and not self.signed:
            raise InvalidValue(f"{self.field} must not be negative, got {result}")
        obj = _new(type(self))
        _set_value(obj, result)
        return obj

    def __mul__(self, other: _ExactValue | _Scalar) -> Decimal:
        operand = other._value if isinstance(other, _ExactValue) else other
        if not isinstance(operand, int | Decimal) or isinstance(operand, bool):
            return NotImplemented
        return EXACT.multiply(self._value, Decimal(operand))

    __rmul__ = __mul__

    def __truediv__(self, other: _ExactValue | _Scalar) -> Decimal:
        """Division can be inexact, so it rounds to 28 significant digits (Decimal's default)."""
        operand = other._value if isinstance(other, _ExactValue) else other
        if not isinstance(operand, int | Decimal) or isinstance(operand, bool):
            return NotImplemented
        return self._value / Decimal(operand)

    # comparison: with the same type, or with plain numbers
    def _operand(self, other: object) -> Decimal | None:
        if type(other) is type(self):
            return other._value
        if isinstance(other, Decimal) or (isinstance(other, int) and not isinstance(other, bool)):
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


_new = object.__new__
_scaleb = EXACT.scaleb
_QUANTA: Final = tuple(Decimal(1).scaleb(-p) for p in range(MAX_PRECISION + 1))
_set_value = cast(Any, _ExactValue.__dict__["_value"]).__set__
_set_precision = cast(Any, _ExactValue.__dict__["_precision"]).__set__


class Price(_ExactValue):
    """An exact price; may be negative (spreads, some futures)."""

    __slots__ = ()
    field = "price"
    signed = True

    def __neg__(self) -> Price:
        return Price._trusted(-self._value if self._value else self._value)


class Quantity(_ExactValue):
    """An exact, non-negative quantity."""

    __slots__ = ()
    field = "quantity"
    signed = False
