"""Decimal precision of float columns: how many decimals a price or size column really has."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import numpy.typing as npt

from tradeforge.domain.errors import InvalidValue

__all__ = ["MAX_PRECISION", "decimals_of_step", "infer_precision"]

MAX_PRECISION = 10


def infer_precision(values: npt.NDArray[np.float64], *, at_least: int = 0) -> int:
    """The fewest decimals (``at_least`` .. 10) that hold every value exactly.

    A value "holds" at ``p`` decimals when ``np.round(x, p) == x`` after float rounding, so
    ``30000.12`` has precision 2 although its binary form is not exact. Values that need more
    than 10 decimals (``1/3``) give 10; non-finite values are ignored.
    """
    finite = values[np.isfinite(values)]
    for decimals in range(at_least, MAX_PRECISION):
        if np.array_equal(np.round(finite, decimals), finite):
            return decimals
    return MAX_PRECISION


def decimals_of_step(step: float) -> int:
    """Decimals of a tick or lot size written as a float: ``0.01`` -> 2, ``5`` -> 0."""
    if not np.isfinite(step) or step <= 0:
        raise InvalidValue(f"step must be a positive number, got {step!r}")
    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    if not isinstance(exponent, int):
        raise InvalidValue(f"step must be a positive number, got {step!r}")
    return max(0, -exponent)
