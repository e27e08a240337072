"""``OrderView``: a read-only window on an ``Order``, for code that must not change it.

Strategies get views: they can read everything about their orders as it is now, but the only way
to change an order is a command (cancel, modify), never ``apply``.
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradeforge.domain.identifiers import (
    ClientOrderId,
    InstrumentId,
    StrategyId,
    VenueOrderId,
)
from tradeforge.domain.money import Currency, Money
from tradeforge.domain.orders.order import Order
from tradeforge.domain.orders.spec import OrderSpec
from tradeforge.domain.values import Price, Quantity

__all__ = ["OrderView"]


class OrderView:
    """The current state of an order, read-only."""

    __slots__ = ("_order",)

    def __init__(self, order: Order) -> None:
        self._order = order

    @property
    def spec(self) -> OrderSpec:
        """What was asked for."""
        return self._order.spec

    @property
    def client_order_id(self) -> ClientOrderId:
        """Our id."""
        return self._order.client_order_id

    @property
    def venue_order_id(self) -> VenueOrderId | None:
        """The venue's id, once acknowledged."""
        return self._order.venue_order_id

    @property
    def strategy_id(self) -> StrategyId:
        """The owning strategy."""
        return self._order.strategy_id

    @property
    def instrument_id(self) -> InstrumentId:
        """The instrument."""
        return self._order.instrument_id

    @property
    def side(self) -> OrderSide:
        """Buy or sell."""
        return self._order.side

    @property
    def order_type(self) -> OrderType:
        """Market, limit, stop, ..."""
        return self._order.order_type

    @property
    def time_in_force(self) -> TimeInForce:
        """How long it works."""
        return self._order.time_in_force

    @property
    def status(self) -> OrderStatus:
        """Where it is in its lifecycle."""
        return self._order.status

    @property
    def quantity(self) -> Quantity:
        """Current quantity (after modifies)."""
        return self._order.quantity

    @property
    def price(self) -> Price | None:
        """Current limit price."""
        return self._order.price

    @property
    def trigger_price(self) -> Price | None:
        """Current trigger price."""
        return self._order.trigger_price

    @property
    def filled_qty(self) -> Quantity:
        """Filled so far."""
        return self._order.filled_qty

    @property
    def leaves_qty(self) -> Quantity:
        """Still to fill."""
        return self._order.leaves_qty

    @property
    def avg_px(self) -> Decimal | None:
        """Average fill price."""
        return self._order.avg_px

    @property
    def fees(self) -> dict[Currency, Money]:
        """Commissions by currency (a copy)."""
        return dict(self._order.fees)

    @property
    def is_open(self) -> bool:
        """Working at the venue."""
        return self._order.is_open

    @property
    def is_inflight(self) -> bool:
        """Sent and not yet answered."""
        return self._order.is_inflight

    @property
    def is_closed(self) -> bool:
        """Finished."""
        return self._order.is_closed

    def __repr__(self) -> str:
        return f"OrderView({self._order!r})"
