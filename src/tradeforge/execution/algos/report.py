"""What a parent order reports: state, progress, average fill price and slippage.

Quantities and the filled notional are exact. The average price and the slippage are one
division each, done in a 60-digit context: exact whenever the quotient has at most 60
significant digits (every price a venue prints, averaged over fills, in practice), and
correctly rounded to 60 digits otherwise. ``notional`` and ``filled`` are kept beside them,
so the exact fraction can always be recomputed.
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Final

import msgspec

from tradeforge.domain import ClientOrderId, InstrumentId, OrderSide, Price, Quantity
from tradeforge.execution.algos._exact import DIVIDE as _DIVIDE
from tradeforge.execution.algos._exact import EXACT as _EXACT

__all__ = ["ExecutionReport", "ExecutionState", "average_price", "slippage_bps"]

_BPS: Final = Decimal(10_000)


class ExecutionState(enum.StrEnum):
    """Where a parent order is."""

    PENDING = "PENDING"  # made, not started
    RUNNING = "RUNNING"  # sending children
    PAUSED = "PAUSED"  # children canceled, nothing new sent until resumed
    DONE = "DONE"  # finished its schedule; ``remaining`` is 0 unless a tail could not be sent
    CANCELED = "CANCELED"  # canceled by the user; working children were canceled
    FAILED = "FAILED"  # stopped after repeated child rejections; ``reason`` says why

    @property
    def is_terminal(self) -> bool:
        """True for DONE, CANCELED and FAILED: nothing more will be sent."""
        return self in (ExecutionState.DONE, ExecutionState.CANCELED, ExecutionState.FAILED)


def average_price(notional: Decimal, filled: Decimal) -> Decimal | None:
    """``notional / filled`` (60 significant digits), or None when nothing was filled."""
    if not filled:
        return None
    return _DIVIDE.divide(notional, filled)


def slippage_bps(
    side: OrderSide, notional: Decimal, filled: Decimal, arrival: Price | None
) -> Decimal | None:
    """Slippage of the average fill against ``arrival`` in basis points; positive is worse.

    Buy: ``(avg - arrival) / arrival * 10^4``; sell: ``(arrival - avg) / arrival * 10^4``.
    Worked from the exact notional in one division: ``(notional - arrival * filled) /
    (arrival * filled)``. None when nothing was filled or there is no (positive) arrival price.
    """
    if not filled or arrival is None or arrival <= 0:
        return None
    benchmark = _EXACT.multiply(arrival.as_decimal(), filled)
    excess = _EXACT.multiply(_EXACT.subtract(notional, benchmark), Decimal(side.sign))
    return _DIVIDE.divide(_EXACT.multiply(excess, _BPS), benchmark)


class ExecutionReport(msgspec.Struct, frozen=True, kw_only=True):
    """One parent order at one moment: immutable; ``to_dict`` gives the event-friendly form."""

    parent_order_id: ClientOrderId
    algorithm: str
    instrument_id: InstrumentId
    side: OrderSide
    state: ExecutionState
    quantity: Quantity
    filled: Quantity
    working: Quantity  # sent to the venue and not yet filled, canceled or done
    notional: Decimal  # sum of fill quantity x fill price, exact
    avg_price: Decimal | None
    arrival_price: Price | None
    slippage_bps: Decimal | None
    children: int  # children sent so far
    reason: str = ""
    ts_event: int
    ts_init: int

    @property
    def remaining(self) -> Quantity:
        """Parent quantity not filled yet (working children included)."""
        left = _EXACT.subtract(self.quantity.as_decimal(), self.filled.as_decimal())
        precision = max(self.quantity.precision, self.filled.precision)
        return Quantity.from_decimal(max(left, Decimal(0)), precision)

    @property
    def progress(self) -> Decimal:
        """``filled / quantity``, between 0 and 1 (60 significant digits)."""
        return _DIVIDE.divide(self.filled.as_decimal(), self.quantity.as_decimal())

    @property
    def is_complete(self) -> bool:
        """True when the whole parent quantity was filled."""
        return self.filled >= self.quantity

    def to_dict(self) -> dict[str, str | int | None]:
        """Plain JSON-ready values (decimals as strings), for logs, the bus and the UI."""

        def text(value: object) -> str | None:
            return None if value is None else str(value)

        return {
            "parent_order_id": str(self.parent_order_id),
            "algorithm": self.algorithm,
            "instrument_id": str(self.instrument_id),
            "side": str(self.side),
            "state": str(self.state),
            "quantity": str(self.quantity),
            "filled": str(self.filled),
            "remaining": str(self.remaining),
            "working": str(self.working),
            "progress": str(self.progress),
            "notional": str(self.notional),
            "avg_price": text(self.avg_price),
            "arrival_price": text(self.arrival_price),
            "slippage_bps": text(self.slippage_bps),
            "children": self.children,
            "reason": self.reason,
            "ts_event": self.ts_event,
            "ts_init": self.ts_init,
        }
