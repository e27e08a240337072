"""Orders: spec, lifecycle table, events, state, and the factory strategies use."""

from tradeforge.domain.orders.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)
from tradeforge.domain.orders.factory import ClientOrderIdGenerator, OrderFactory
from tradeforge.domain.orders.lifecycle import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    check_transition,
    is_allowed,
)
from tradeforge.domain.orders.order import Order
from tradeforge.domain.orders.spec import OrderList, OrderSpec
from tradeforge.domain.orders.view import OrderView

__all__ = [
    "OPEN_STATUSES",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "ClientOrderIdGenerator",
    "Order",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFactory",
    "OrderFilled",
    "OrderInitialized",
    "OrderList",
    "OrderModifyRejected",
    "OrderPendingCancel",
    "OrderPendingUpdate",
    "OrderRejected",
    "OrderSpec",
    "OrderSubmitted",
    "OrderTriggered",
    "OrderUpdated",
    "OrderView",
    "check_transition",
    "is_allowed",
]
