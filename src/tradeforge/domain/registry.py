"""Every concrete message type of the domain, for codecs and for tests that enumerate them."""

from __future__ import annotations

from typing import Final

from tradeforge.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    ModifyOrder,
    QueryOrder,
    SubmitOrder,
    SubmitOrderList,
)
from tradeforge.domain.market_data import (
    Bar,
    OrderBookDelta,
    OrderBookSnapshot,
    QuoteTick,
    TradeTick,
)
from tradeforge.domain.messages import Message
from tradeforge.domain.orders.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
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
from tradeforge.domain.portfolio_events import AccountStateChanged, PositionChanged
from tradeforge.domain.reports import FillReport, OrderStatusReport

__all__ = ["MESSAGE_TYPES"]

MESSAGE_TYPES: Final[tuple[type[Message], ...]] = (
    # commands
    SubmitOrder,
    SubmitOrderList,
    ModifyOrder,
    CancelOrder,
    CancelAllOrders,
    QueryOrder,
    # order events
    OrderInitialized,
    OrderDenied,
    OrderSubmitted,
    OrderAccepted,
    OrderRejected,
    OrderPendingUpdate,
    OrderPendingCancel,
    OrderModifyRejected,
    OrderCancelRejected,
    OrderUpdated,
    OrderTriggered,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    # holdings
    PositionChanged,
    AccountStateChanged,
    # venue reports
    OrderStatusReport,
    FillReport,
    # market data
    Bar,
    QuoteTick,
    TradeTick,
    OrderBookDelta,
    OrderBookSnapshot,
)
