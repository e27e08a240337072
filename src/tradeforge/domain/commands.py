"""Commands: imperative requests from strategies and users to the trading and execution services.

Each names the strategy it acts for; ``ts_event`` is when it was decided, ``ts_init`` when the
object was made. A command is a request: the answer comes back as events.
"""

from __future__ import annotations

from tradeforge.domain.enums import OrderSide
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    PositionId,
    StrategyId,
    VenueOrderId,
)
from tradeforge.domain.messages import Message
from tradeforge.domain.orders.spec import OrderList, OrderSpec
from tradeforge.domain.values import Price, Quantity

__all__ = [
    "CancelAllOrders",
    "CancelOrder",
    "Command",
    "ModifyOrder",
    "QueryOrder",
    "SubmitOrder",
    "SubmitOrderList",
]


class Command(Message, frozen=True, kw_only=True):
    """What every command names: the strategy acting."""

    strategy_id: StrategyId


class SubmitOrder(Command, frozen=True, kw_only=True, tag=True):
    """Send the order described by ``spec`` (to ``account_id``'s venue when given)."""

    spec: OrderSpec
    account_id: AccountId | None = None
    position_id: PositionId | None = None

    def __post_init__(self) -> None:
        if self.spec.strategy_id != self.strategy_id:
            raise InvalidValue(
                f"SubmitOrder: spec.strategy_id {self.spec.strategy_id} is not the command's "
                f"strategy_id {self.strategy_id}"
            )


class SubmitOrderList(Command, frozen=True, kw_only=True, tag=True):
    """Send a contingent group (OCO, OTO, bracket)."""

    order_list: OrderList
    account_id: AccountId | None = None

    def __post_init__(self) -> None:
        for spec in self.order_list.orders:
            if spec.strategy_id != self.strategy_id:
                raise InvalidValue(
                    f"SubmitOrderList: order {spec.client_order_id} belongs to "
                    f"{spec.strategy_id}, not {self.strategy_id}"
                )


class ModifyOrder(Command, frozen=True, kw_only=True, tag=True):
    """Change an open order's quantity, price or trigger price (at least one)."""

    instrument_id: InstrumentId
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None = None
    quantity: Quantity | None = None
    price: Price | None = None
    trigger_price: Price | None = None

    def __post_init__(self) -> None:
        if self.quantity is None and self.price is None and self.trigger_price is None:
            raise InvalidValue(
                f"ModifyOrder {self.client_order_id}: give quantity, price or trigger_price"
            )
        if self.quantity is not None and self.quantity.is_zero():
            raise InvalidValue(f"ModifyOrder {self.client_order_id}: quantity must be positive")


class CancelOrder(Command, frozen=True, kw_only=True, tag=True):
    """Cancel one order."""

    instrument_id: InstrumentId
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None = None


class CancelAllOrders(Command, frozen=True, kw_only=True, tag=True):
    """Cancel every open order of the strategy in ``instrument_id`` (one side, if given)."""

    instrument_id: InstrumentId
    side: OrderSide | None = None


class QueryOrder(Command, frozen=True, kw_only=True, tag=True):
    """Ask the venue for an order's current state (answered with order events)."""

    instrument_id: InstrumentId
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None = None
