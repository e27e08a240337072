"""Exact decimal arithmetic shared by the value objects.

Every operation runs in one context that traps inexact results, so a value can never be rounded
silently: rounding only happens where the code asks for it, with a named rounding mode.
"""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Final

from tradeforge.domain.errors import InvalidValue

__all__ = [
    "EXACT",
    "MAX_PRECISION",
    "ROUNDING",
    "fit_precision",
    "decimals_of",
    "exact_add",
    "exact_multiply",
    "exact_quantize",
    "exact_remainder",
    "exact_scaleb",
    "exact_subtract",
    "quantum",
    "round_to",
    "rounding_divide",
    "rounding_multiply",
    "rounding_quantize",
    "to_decimal",
]

MAX_PRECISION: Final = 18

# 60 significant digits hold any price x quantity x multiplier we meet; Inexact is trapped so an
# operation that would need more raises instead of rounding.
EXACT: Final = Context(
    prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Inexact, Overflow, DivisionByZero]
)

# For the places that round on purpose, with a named mode: same precision, Inexact not trapped.
ROUNDING: Final = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow])

# A ``decimal.Context`` finds its methods slowly (its attribute lookup first checks for its own
# flag names), which costs more than the arithmetic itself: the operations the event path runs
# on every fill are bound once here. Same contexts, same traps.
exact_add: Final = EXACT.add
exact_subtract: Final = EXACT.subtract
exact_multiply: Final = EXACT.multiply
exact_quantize: Final = EXACT.quantize
exact_remainder: Final = EXACT.remainder
exact_scaleb: Final = EXACT.scaleb
rounding_divide: Final = ROUNDING.divide
rounding_multiply: Final = ROUNDING.multiply
rounding_quantize: Final = ROUNDING.quantize

_QUANTA: Final = tuple(Decimal(1).scaleb(-p) for p in range(MAX_PRECISION + 1))


def quantum(precision: int) -> Decimal:
    """``10**-precision`` as a Decimal, e.g. ``Decimal('0.01')`` for 2."""
    return _QUANTA[precision]


def to_decimal(field: str, value: object) -> Decimal:
    """Turn str, int or Decimal into a finite Decimal; refuse float, bool, NaN and infinity."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool):
        raise InvalidValue(f"{field} must be a number, got bool {value!r}")
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidValue(f"{field} is not a number: {value!r}") from None
    elif isinstance(value, float):
        raise InvalidValue(
            f"{field} cannot be built from float {value!r}: pass a str or Decimal, or round it "
            "through the instrument (instrument.make_price / make_qty)"
        )
    else:
        raise InvalidValue(f"{field} must be str, int or Decimal, got {type(value).__name__}")
    if not result.is_finite():
        raise InvalidValue(f"{field} must be finite, got {value!r}")
    return result


def decimals_of(value: Decimal) -> int:
    """How many digits a finite Decimal has after the point (0 for integers)."""
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def round_to(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``value`` to a multiple of ``step`` with the given rounding mode, exactly."""
    steps = rounding_divide(value, step).quantize(Decimal(1), rounding=rounding, context=ROUNDING)
    # Keep the step's exponent so 1.5 rounded to 0.01 reads 1.50.
    return exact_multiply(steps, step).quantize(step, context=EXACT)


def fit_precision(field: str, value: Decimal, precision: int) -> Decimal:
    """Express ``value`` with exactly ``precision`` decimals, refusing values that need more."""
    if not 0 <= precision <= MAX_PRECISION:
        raise InvalidValue(f"{field} precision must be 0..{MAX_PRECISION}, got {precision}")
    try:
        exact = exact_quantize(value, _QUANTA[precision])
    except Inexact:
        raise InvalidValue(
            f"{field} {value} has more than {precision} decimals (precision {precision})"
        ) from None
    except InvalidOperation:
        raise InvalidValue(f"{field} {value} is too large to hold exactly") from None
    # -0 and 0 are the same amount: keep one spelling of it.
    return exact if exact else exact.copy_abs()
