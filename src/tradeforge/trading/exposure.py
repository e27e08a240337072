"""``ExposureLedger``: the orders risk counts as open, and what they add to each scope.

An order is counted from the moment it passes the checks (RTS 6 15(2): every order counts at
once), in the three scopes it belongs to: its open-order count and its leaves on the order's side
of the instrument's exposure. A fill moves quantity from the leaves into the position, so the
worst-case position (position + open buys, position - open sells) never dips while an order
fills. Cancels, rejections, expiries and denials release the leaves.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from tradeforge.domain import ClientOrderId, InstrumentId, OrderSide
from tradeforge.trading.risk_state import OpenOrder, ScopeRuntime

__all__ = ["ExposureLedger"]

_ZERO = Decimal(0)


class ExposureLedger:
    """Open orders by client order id, and their effect on scope exposures."""

    def __init__(self) -> None:
        self.orders: dict[ClientOrderId, OpenOrder] = {}

    def get(self, client_order_id: ClientOrderId) -> OpenOrder | None:
        """The open order with that id."""
        return self.orders.get(client_order_id)

    def __iter__(self) -> Iterator[OpenOrder]:
        return iter(self.orders.values())

    def __len__(self) -> int:
        return len(self.orders)

    def add(self, order: OpenOrder) -> None:
        """Count ``order`` as open in its scopes."""
        self.orders[order.client_order_id] = order
        leaves = order.leaves
        buy = order.side is OrderSide.BUY
        iid = order.instrument_id
        for runtime in order.runtimes:
            runtime.open_orders += 1
            exposure = runtime.exposure(iid)
            if buy:
                exposure.open_buy += leaves
            else:
                exposure.open_sell += leaves

    def resize(self, order: OpenOrder, quantity: Decimal) -> None:
        """Count ``quantity`` as the order's quantity from now on."""
        delta = max(quantity, order.filled) - order.quantity
        if not delta:
            return
        order.quantity += delta
        self._shift_open(order, delta)

    def fill(self, order: OpenOrder, quantity: Decimal) -> bool:
        """Move ``quantity`` of ``order`` from leaves to position; True when it is done."""
        leaves = order.leaves
        if quantity > leaves:  # an overfill: the venue's word goes
            order.quantity += quantity - leaves
            self._shift_open(order, quantity - leaves)
        order.filled += quantity
        self._shift_open(order, -quantity)
        self.move_position(order.runtimes, order.instrument_id, order.side, quantity)
        if order.leaves <= 0:
            self._drop(order)
            return True
        return False

    def close(self, client_order_id: ClientOrderId) -> OpenOrder | None:
        """Stop counting the order (cancelled, rejected, expired, denied); what was counted."""
        order = self.orders.get(client_order_id)
        if order is None:
            return None
        self._shift_open(order, -order.leaves)
        self._drop(order)
        return order

    @staticmethod
    def move_position(
        runtimes: tuple[ScopeRuntime, ...],
        instrument_id: InstrumentId,
        side: OrderSide,
        quantity: Decimal,
    ) -> None:
        """A fill of ``quantity`` on ``side``: the scopes' positions move by it."""
        signed = quantity if side is OrderSide.BUY else -quantity
        for runtime in runtimes:
            runtime.exposure(instrument_id).position += signed

    def _shift_open(self, order: OpenOrder, delta: Decimal) -> None:
        buy = order.side is OrderSide.BUY
        iid = order.instrument_id
        for runtime in order.runtimes:
            exposure = runtime.exposure(iid)
            if buy:
                exposure.open_buy = max(_ZERO, exposure.open_buy + delta)
            else:
                exposure.open_sell = max(_ZERO, exposure.open_sell + delta)

    def _drop(self, order: OpenOrder) -> None:
        if self.orders.pop(order.client_order_id, None) is None:
            return
        for runtime in order.runtimes:
            runtime.open_orders -= 1
