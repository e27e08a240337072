"""The decimal contexts the execution package computes in.

``EXACT`` traps every inexact result, so a quantity or notional is never rounded silently;
``DIVIDE`` is for the few true divisions (average price, slippage, rates), correctly rounded
to 60 significant digits; ``CEIL`` rounds up, for sizes that must cover a minimum.
"""

from __future__ import annotations

from decimal import (
    ROUND_CEILING,
    ROUND_HALF_EVEN,
    Context,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from typing import Final

__all__ = ["CEIL", "DIVIDE", "EXACT"]

EXACT: Final = Context(prec=80, traps=[InvalidOperation, Inexact, Overflow, DivisionByZero])
DIVIDE: Final = Context(
    prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, Overflow, DivisionByZero]
)
CEIL: Final = Context(
    prec=80, rounding=ROUND_CEILING, traps=[InvalidOperation, Overflow, DivisionByZero]
)
