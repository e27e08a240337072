"""Pure slicing math for execution algorithms: how a parent quantity becomes child quantities.

The rounding rule (see ``docs/execution-algorithms.md``):

- Everything is counted in whole lots. A parent of ``T`` lots split by weights ``w_1 .. w_n``
  gives child ``i`` the lots between the cumulative targets ``floor(T * W_{i-1} / W)`` and
  ``floor(T * W_i / W)`` (``W_i`` the running sum of the weights): every cumulative target is
  rounded *down* to the lot, and the last child takes the remainder, so the children sum to the
  parent exactly and each is within one lot of its exact share.
- A child below the minimum child size is not sent: it is merged forward into the next slot
  (its slot becomes 0). What is still below the minimum after the last slot is merged back
  into the last non-empty child. A parent below the minimum cannot be split (refused).

Nothing here reads a clock or an instrument's state: the functions take numbers and return
numbers, so they are tested exhaustively with Hypothesis.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

from tradeforge.domain import Instrument, InvalidValue, Price, Quantity
from tradeforge.execution.algos._exact import CEIL as _CEIL
from tradeforge.execution.algos._exact import EXACT as _EXACT

_add = _EXACT.add
_sub = _EXACT.subtract

__all__ = [
    "iceberg_child",
    "iceberg_tail_is_odd",
    "lots_of",
    "min_child_quantity",
    "round_down_to_lot",
    "slice_times",
    "split_even",
    "split_iceberg",
    "split_quantity",
]


def lots_of(quantity: Quantity | Decimal, lot: Quantity) -> int:
    """How many whole lots ``quantity`` holds; refused unless it is a whole number of lots."""
    value = quantity.as_decimal() if isinstance(quantity, Quantity) else quantity
    step = lot.as_decimal()
    if step <= 0:
        raise InvalidValue(f"lot must be positive, got {lot}")
    whole, rest = _EXACT.divmod(value, step)
    if rest:
        raise InvalidValue(f"quantity {value} is not a whole number of lots of {lot}")
    return int(whole)


def round_down_to_lot(quantity: Quantity | Decimal, lot: Quantity) -> Quantity:
    """``quantity`` rounded down to a whole number of lots, at the lot's precision."""
    value = quantity.as_decimal() if isinstance(quantity, Quantity) else quantity
    if value <= 0:
        return Quantity.from_decimal(Decimal(0), lot.precision)
    whole = _EXACT.divide_int(value, lot.as_decimal())
    return _in_lots(int(whole), lot)


def _in_lots(count: int, lot: Quantity) -> Quantity:
    return Quantity.from_decimal(_EXACT.multiply(Decimal(count), lot.as_decimal()), lot.precision)


def min_child_quantity(instrument: Instrument, price: Price | None = None) -> Quantity:
    """The smallest child the venue takes: ``min_quantity``, raised to cover ``min_notional``
    at ``price`` when both are known (rounded up to the lot)."""
    floor = max(instrument.min_quantity, instrument.lot_size, key=Quantity.as_decimal)
    lot = instrument.lot_size
    if instrument.min_notional is None or price is None or price <= 0:
        return floor
    # Linear: qty x price x multiplier >= min_notional; inverse (quoted in contracts of
    # ``multiplier`` quote units): qty x multiplier >= min_notional.
    per_unit = instrument.multiplier.as_decimal()
    if not instrument.is_inverse:
        per_unit = _EXACT.multiply(per_unit, price.as_decimal())
    size = _CEIL.divide(instrument.min_notional.amount, per_unit)
    lots = int(_CEIL.divide(size, lot.as_decimal()).to_integral_value(rounding=ROUND_CEILING))
    return max(floor, _in_lots(max(lots, 1), lot), key=Quantity.as_decimal)


def split_quantity(
    total: Quantity,
    weights: Sequence[Decimal | int],
    *,
    lot: Quantity,
    min_qty: Quantity,
) -> tuple[Quantity, ...]:
    """Split ``total`` over ``len(weights)`` slots in proportion to ``weights``.

    Returns one quantity per slot: each a whole number of lots and either 0 (nothing sent in
    that slot) or at least ``min_qty``; they sum to ``total`` exactly (module docstring).

    Raises:
        InvalidValue: no weights, a negative or non-finite weight, all weights zero, ``total``
            not a whole number of lots, or ``0 < total < min_qty``.
    """
    if not weights:
        raise InvalidValue("weights must not be empty")
    shares: list[Fraction] = []
    for weight in weights:
        if isinstance(weight, Decimal) and not weight.is_finite():
            raise InvalidValue(f"weights must be finite, got {weight}")
        if weight < 0:
            raise InvalidValue(f"weights must not be negative, got {weight}")
        shares.append(Fraction(weight))
    whole = sum(shares, Fraction(0))
    if whole == 0:
        raise InvalidValue("weights must not all be zero")
    lots = lots_of(total, lot)
    min_lots = max(1, lots_of_ceil(min_qty, lot))
    if 0 < lots < min_lots:
        raise InvalidValue(f"quantity {total} is below the minimum child size {min_qty}")
    raw: list[int] = []
    done = 0
    running = Fraction(0)
    for i, share in enumerate(shares):
        running += share
        target = lots if i == len(shares) - 1 else (lots * running / whole).__floor__()
        raw.append(target - done)
        done = target
    return tuple(_in_lots(count, lot) for count in _merge_small(raw, min_lots))


def lots_of_ceil(quantity: Quantity, lot: Quantity) -> int:
    """Whole lots needed to cover ``quantity`` (rounded up)."""
    whole, rest = _EXACT.divmod(quantity.as_decimal(), lot.as_decimal())
    return int(whole) + (1 if rest else 0)


def _merge_small(counts: list[int], min_lots: int) -> list[int]:
    out: list[int] = []
    carry = 0
    for count in counts:
        size = carry + count
        if 0 < size < min_lots:
            carry, size = size, 0  # too small to send: goes forward into the next slot
        else:
            carry = 0
        out.append(size)
    if carry:
        # Still too small after the last slot: back into the last child that is sent.
        last = max(i for i, size in enumerate(out) if size)
        out[last] += carry
    return out


def split_even(
    total: Quantity, slices: int, *, lot: Quantity, min_qty: Quantity
) -> tuple[Quantity, ...]:
    """``total`` over ``slices`` equal slots (``split_quantity`` with equal weights)."""
    if isinstance(slices, bool) or not isinstance(slices, int) or slices < 1:
        raise InvalidValue(f"slices must be a positive int, got {slices!r}")
    return split_quantity(total, [1] * slices, lot=lot, min_qty=min_qty)


def slice_times(start_ns: int, end_ns: int, slices: int) -> tuple[int, ...]:
    """The start of each of ``slices`` equal intervals of ``[start_ns, end_ns)``.

    ``start_ns + k * (end_ns - start_ns) // slices``: evenly spaced to the nanosecond.
    """
    if isinstance(slices, bool) or not isinstance(slices, int) or slices < 1:
        raise InvalidValue(f"slices must be a positive int, got {slices!r}")
    span = end_ns - start_ns
    if span < slices:
        raise InvalidValue(
            f"[{start_ns}, {end_ns}) is too short for {slices} slices of at least 1 ns"
        )
    return tuple(start_ns + k * span // slices for k in range(slices))


def iceberg_child(rest: Quantity, display: Quantity, min_qty: Quantity) -> Quantity:
    """The next visible child of an iceberg with ``rest`` still to show.

    ``display`` while what stays behind is at least ``min_qty``; otherwise the child is cut to
    leave exactly ``min_qty`` behind, or, when no cut keeps both pieces within
    ``[min_qty, display]``, ``display`` with an odd tail after it. Never above ``display``.
    """
    r, d, m = rest.as_decimal(), display.as_decimal(), min_qty.as_decimal()
    if r <= d:
        return rest
    if _sub(r, d) >= m or _sub(r, m) < m:
        return display
    return Quantity.from_decimal(_sub(r, m), max(rest.precision, min_qty.precision))


def split_iceberg(total: Quantity, display: Quantity, *, min_qty: Quantity) -> tuple[Quantity, ...]:
    """Every visible child of an iceberg of ``total`` whose children all fill (``iceberg_child``
    repeatedly); they sum to ``total``, none is above ``display``."""
    pieces: list[Quantity] = []
    rest = total
    while not rest.is_zero():
        child = iceberg_child(rest, display, min_qty)
        pieces.append(child)
        rest = rest - child
    return tuple(pieces)


def iceberg_tail_is_odd(total: Quantity, display: Quantity, min_qty: Quantity) -> bool:
    """True when ``split_iceberg`` must end with a child below ``min_qty`` (worked out without
    listing the children): only possible when ``display < 2 * min_qty``."""
    t, d, m = total.as_decimal(), display.as_decimal(), min_qty.as_decimal()
    if t < m:
        return True
    span = _add(d, m)
    if t >= span:
        full = int(_EXACT.divide_int(_sub(t, span), d)) + 1
        t = _sub(t, _EXACT.multiply(Decimal(full), d))
    # Now m <= t < d + m: one child if t <= d, else a cut leaving m if t - m >= m.
    return t > d and _sub(t, m) < m
