"""``ChildLedger``: the children of one parent order, what each filled, and the fill totals.

A child's filled quantity is the larger of the sum of its fills and the filled quantity its end
event reported (either may arrive first). Fills are counted once per trade id, so a fill
delivered twice (a reconnect replaying the stream) does not count twice. The notional used
for the average price comes from the fills themselves.
"""

from __future__ import annotations

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
    """Children of one parent, named ``<parent>-c1``, ``<parent>-c2``, ..."""

    def __init__(self, parent_id: ClientOrderId) -> None:
        self._prefix = f"{parent_id.value}-c"
        self._children: dict[ClientOrderId, Child] = {}
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
        return child

    def get(self, client_order_id: ClientOrderId) -> Child | None:
        """The child with this id, if it is ours."""
        return self._children.get(client_order_id)

    def working(self) -> list[Child]:
        """Children not yet done, oldest first."""
        return [child for child in self._children.values() if not child.done]

    def specs(self) -> list[OrderSpec]:
        """Every child's spec, in the order they were sent."""
        return [child.spec for child in self._children.values()]

    def filled(self) -> Decimal:
        """What all children filled."""
        total = _ZERO
        for child in self._children.values():
            total = EXACT.add(total, child.filled)
        return total

    def outstanding(self) -> Decimal:
        """What working children may still fill."""
        total = _ZERO
        for child in self._children.values():
            total = EXACT.add(total, child.open_quantity)
        return total

    def record_fill(self, fill: OrderFilled) -> Child | None:
        """Count a fill of one of our children; None if not ours or already counted."""
        child = self._children.get(fill.client_order_id)
        if child is None or fill.trade_id in child.trade_ids:
            return None
        child.trade_ids.add(fill.trade_id)
        qty = fill.last_qty.as_decimal()
        child.fills = EXACT.add(child.fills, qty)
        self.fill_quantity = EXACT.add(self.fill_quantity, qty)
        self.notional = EXACT.add(self.notional, EXACT.multiply(qty, fill.last_px.as_decimal()))
        return child

    def record_done(self, client_order_id: ClientOrderId, filled: Decimal) -> Child | None:
        """Mark a child ended with ``filled`` in total; None if not ours or already ended."""
        child = self._children.get(client_order_id)
        if child is None or child.done:
            return None
        child.done = True
        child.reported = filled
        return child
