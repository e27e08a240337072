"""``ChildLedger``: the children of one parent order, what each filled, and the fill totals.

A child's filled quantity is the larger of the sum of its fills and the filled quantity its end
event reported (either may arrive first); a child whose fills reach its quantity has ended.
Fills are counted once per trade id, so a fill delivered twice (a reconnect replaying the
stream) does not count twice. The notional used for the average price comes from the fills.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from tradeforge.domain import ClientOrderId, OrderFilled, OrderSpec, TradeId
from tradeforge.execution.algos._exact import EXACT

__all__ = ["Child", "ChildLedger"]

_ZERO = Decimal(0)


@dataclass(slots=True, eq=False)
class Child:
    """One child order and what is known of it."""

    spec: OrderSpec
    fills: Decimal = _ZERO  # sum of its fills
    reported: Decimal = _ZERO  # filled quantity its end event reported
    done: bool = False
    cancel_requested: bool = False
    trade_ids: set[TradeId] = field(default_factory=set)

    @property
    def filled(self) -> Decimal:
        """What this child filled."""
        return max(self.fills, self.reported)

    @property
    def open_quantity(self) -> Decimal:
        """What may still fill: 0 once done."""
        if self.done:
            return _ZERO
        return max(EXACT.subtract(self.spec.quantity.as_decimal(), self.fills), _ZERO)


class ChildLedger:
    """Children of one parent, named ``<parent>-c1``, ``<parent>-c2``, ...

    Totals are kept as children change, so reading them costs the same after ten thousand
    children as after one.
    """

    def __init__(self, parent_id: ClientOrderId) -> None:
        self._prefix = f"{parent_id.value}-c"
        self._children: dict[ClientOrderId, Child] = {}
        self._working: dict[ClientOrderId, Child] = {}
        self._filled = _ZERO  # sum of every child's filled
        self._open = _ZERO  # sum of every child's open quantity
        self.fill_quantity = _ZERO  # sum of all fills
        self.notional = _ZERO  # sum of fill quantity x price

    def __len__(self) -> int:
        return len(self._children)

    def next_id(self) -> ClientOrderId:
        """The id the next child will get."""
        return ClientOrderId(f"{self._prefix}{len(self._children) + 1}")

    def add(self, spec: OrderSpec) -> Child:
        """Record a child before it is sent (its fills may arrive while it is being sent)."""
        child = Child(spec)
        self._children[spec.client_order_id] = child
        self._working[spec.client_order_id] = child
        self._open = EXACT.add(self._open, child.open_quantity)
        return child

    def get(self, client_order_id: ClientOrderId) -> Child | None:
        """The child with this id, if it is ours."""
        return self._children.get(client_order_id)

    def working(self) -> list[Child]:
        """Children not yet done, oldest first."""
        return list(self._working.values())

    def has_working(self) -> bool:
        """True while any child is not done."""
        return bool(self._working)

    def specs(self) -> list[OrderSpec]:
        """Every child's spec, in the order they were sent."""
        return [child.spec for child in self._children.values()]

    def filled(self) -> Decimal:
        """What all children filled."""
        return self._filled

    def outstanding(self) -> Decimal:
        """What working children may still fill."""
        return self._open

    def record_fill(self, fill: OrderFilled) -> Child | None:
        """Count a fill of one of our children; None if not ours or already counted."""
        child = self._children.get(fill.client_order_id)
        if child is None or fill.trade_id in child.trade_ids:
            return None
        child.trade_ids.add(fill.trade_id)
        qty = fill.last_qty.as_decimal()
        self.fill_quantity = EXACT.add(self.fill_quantity, qty)
        self.notional = EXACT.add(self.notional, EXACT.multiply(qty, fill.last_px.as_decimal()))
        with self._changing(child):
            child.fills = EXACT.add(child.fills, qty)
            if child.fills >= child.spec.quantity.as_decimal():
                child.done = True  # filled in full: ended, whether or not its end event follows
        return child

    def record_done(self, client_order_id: ClientOrderId, filled: Decimal) -> Child | None:
        """Mark a child ended with ``filled`` in total; None if not ours or already ended."""
        child = self._children.get(client_order_id)
        if child is None or child.done:
            return None
        with self._changing(child):
            child.done = True
            child.reported = filled
        return child

    @contextmanager
    def _changing(self, child: Child) -> Iterator[None]:
        filled, open_qty = child.filled, child.open_quantity
        yield
        self._filled = EXACT.add(self._filled, EXACT.subtract(child.filled, filled))
        self._open = EXACT.add(self._open, EXACT.subtract(child.open_quantity, open_qty))
        if child.done:
            self._working.pop(child.spec.client_order_id, None)
