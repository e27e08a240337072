"""``OrderManager``: the orders of a node, their state driven only by their events.

This is the in-memory core of the OMS: the journal, reconciliation and locally emulated contingent
orders come with the trading service proper; the backtester and the trading node share this part.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    Order,
    OrderEvent,
    OrderInitialized,
    OrderSpec,
    StrategyId,
    UnknownOrder,
)

__all__ = ["OrderManager"]


class OrderManager:
    """Orders by client order id, with the open ones indexed per strategy.

    ``keep_closed`` bounds how many finished orders stay queryable (the most recent ones), so a
    long backtest's memory does not grow with its order count; None keeps them all. A client
    order id is refused while its order is held here (the factory never repeats one).
    """

    def __init__(self, *, keep_closed: int | None = None) -> None:
        self._orders: dict[ClientOrderId, Order] = {}
        self._open: dict[StrategyId, dict[ClientOrderId, Order]] = {}
        self._closed: OrderedDict[ClientOrderId, None] = OrderedDict()
        self._keep_closed = keep_closed
        self.created = 0

    def create(self, spec: OrderSpec, ts: int) -> tuple[Order, OrderInitialized]:
        """A new order from ``spec``; its id must be new."""
        if spec.client_order_id in self._orders:
            raise UnknownOrder(f"client order id {spec.client_order_id} is already in use")
        self.created += 1
        init = OrderInitialized(  # what ``OrderInitialized.of`` builds, without its call
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            instrument_id=spec.instrument_id,
            spec=spec,
            ts_event=ts,
            ts_init=ts,
        )
        order = Order(init)
        self._orders[spec.client_order_id] = order
        self._open.setdefault(spec.strategy_id, {})[spec.client_order_id] = order
        return order, init

    def apply(self, event: OrderEvent) -> Order:
        """Apply ``event`` to its order (raising if the lifecycle does not allow it)."""
        order = self._orders.get(event.client_order_id)
        if order is None:
            raise UnknownOrder(f"event for unknown order {event.client_order_id}: {event!r}")
        order.apply(event)
        if order.is_closed:
            mine = self._open.get(order.strategy_id)
            if mine is not None:
                mine.pop(order.client_order_id, None)
            self._retire(order)
        return order

    def _retire(self, order: Order) -> None:
        keep = self._keep_closed
        if keep is None:
            return
        closed, order_id = self._closed, order.client_order_id
        if order_id in closed:  # closed again (e.g. a late fill): now the most recent
            closed.move_to_end(order_id)
        else:
            closed[order_id] = None
        while len(closed) > keep:
            old, _ = closed.popitem(False)  # the oldest (positional: no keyword dict)
            del self._orders[old]

    def get(self, client_order_id: ClientOrderId) -> Order | None:
        """The order with that id."""
        return self._orders.get(client_order_id)

    def open_orders(
        self, strategy_id: StrategyId, instrument_id: InstrumentId | None = None
    ) -> list[Order]:
        """The strategy's orders that are not closed (working or in flight)."""
        orders = self._open.get(strategy_id, {}).values()
        if instrument_id is None:
            return list(orders)
        return [o for o in orders if o.instrument_id == instrument_id]

    def __iter__(self) -> Iterator[Order]:
        return iter(self._orders.values())

    def __len__(self) -> int:
        return len(self._orders)
