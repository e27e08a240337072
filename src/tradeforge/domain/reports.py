"""What a venue says about orders and fills, in domain terms: the input of reconciliation.

A connector turns a venue's answer (REST or stream) into these. ``OrderStatusReport`` is the
venue's view of one order now; ``FillReport`` is one execution, identified by its ``trade_id``
so that a fill seen twice (a reconnect, a poll and a stream) is counted once.
"""

from __future__ import annotations

from decimal import Decimal

from tradeforge.domain.enums import LiquiditySide, OrderSide, OrderStatus, OrderType, TimeInForce
from tradeforge.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    TradeId,
    VenueOrderId,
)
from tradeforge.domain.messages import Message
from tradeforge.domain.money import Money
from tradeforge.domain.values import Price, Quantity

__all__ = ["FillReport", "OrderStatusReport"]


class OrderStatusReport(Message, frozen=True, kw_only=True, tag=True):
    """One order as the venue reports it now."""

    account_id: AccountId
    instrument_id: InstrumentId
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId
    side: OrderSide
    order_type: OrderType
    status: OrderStatus
    quantity: Quantity
    filled_qty: Quantity
    time_in_force: TimeInForce = TimeInForce.GTC
    price: Price | None = None
    trigger_price: Price | None = None
    avg_px: Decimal | None = None
    reason: str = ""

    @property
    def is_open(self) -> bool:
        """True while the venue may still fill it."""
        return self.status in (
            OrderStatus.ACCEPTED,
            OrderStatus.PARTIALLY_FILLED,
            OrderStatus.TRIGGERED,
            OrderStatus.PENDING_CANCEL,
            OrderStatus.PENDING_UPDATE,
        )


class FillReport(Message, frozen=True, kw_only=True, tag=True):
    """One execution of an order at the venue."""

    account_id: AccountId
    instrument_id: InstrumentId
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId
    trade_id: TradeId
    side: OrderSide
    last_qty: Quantity
    last_px: Price
    commission: Money
    liquidity_side: LiquiditySide
