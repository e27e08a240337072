"""Order events: past tense, one per thing that happened to an order."""

from __future__ import annotations

from tradeforge.domain.enums import (
    DenyReason,
    LiquiditySide,
    OrderSide,
    OrderType,
    PositionSide,
    RejectReason,
)
from tradeforge.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    PositionId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradeforge.domain.messages import Message
from tradeforge.domain.money import Money
from tradeforge.domain.orders.spec import OrderSpec
from tradeforge.domain.values import Price, Quantity

__all__ = [
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderInitialized",
    "OrderModifyRejected",
    "OrderPendingCancel",
    "OrderPendingUpdate",
    "OrderRejected",
    "OrderSubmitted",
    "OrderTriggered",
    "OrderUpdated",
]


class OrderEvent(Message, frozen=True, kw_only=True):
    """What every order event names: the order, its strategy and its instrument."""

    client_order_id: ClientOrderId
    strategy_id: StrategyId
    instrument_id: InstrumentId


class OrderInitialized(OrderEvent, frozen=True, kw_only=True, tag=True):
    """An order was created from ``spec`` (its ids repeat the spec's)."""

    spec: OrderSpec

    def __post_init__(self) -> None:
        spec = self.spec
        if (
            spec.client_order_id is self.client_order_id
            and spec.strategy_id is self.strategy_id
            and spec.instrument_id is self.instrument_id
        ):
            return
        if (spec.client_order_id, spec.strategy_id, spec.instrument_id) != (
            self.client_order_id,
            self.strategy_id,
            self.instrument_id,
        ):
            raise ValueError("OrderInitialized ids must equal the spec's ids")

    @classmethod
    def of(cls, spec: OrderSpec, ts: int) -> OrderInitialized:
        """The initialization event of ``spec`` at ``ts``."""
        return cls(
            client_order_id=spec.client_order_id,
            strategy_id=spec.strategy_id,
            instrument_id=spec.instrument_id,
            spec=spec,
            ts_event=ts,
            ts_init=ts,
        )


class OrderDenied(OrderEvent, frozen=True, kw_only=True, tag=True):
    """Pre-trade checks refused the order; it never reached a venue."""

    reason: DenyReason
    message: str


class OrderSubmitted(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The order was journaled and sent to the venue of ``account_id``."""

    account_id: AccountId


class OrderAccepted(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The venue acknowledged the order and gave it ``venue_order_id``."""

    account_id: AccountId
    venue_order_id: VenueOrderId


class OrderRejected(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The venue refused the order."""

    account_id: AccountId
    reason: RejectReason
    message: str


class OrderPendingUpdate(OrderEvent, frozen=True, kw_only=True, tag=True):
    """A modify was sent; the venue has not answered yet."""


class OrderPendingCancel(OrderEvent, frozen=True, kw_only=True, tag=True):
    """A cancel was sent; the venue has not answered yet."""


class OrderModifyRejected(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The venue refused a modify; the order is as it was."""

    reason: RejectReason
    message: str


class OrderCancelRejected(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The venue refused a cancel; the order is as it was."""

    reason: RejectReason
    message: str


class OrderUpdated(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The venue applied a modify: the order's quantity and prices are now these."""

    quantity: Quantity
    price: Price | None = None
    trigger_price: Price | None = None
    venue_order_id: VenueOrderId | None = None


class OrderTriggered(OrderEvent, frozen=True, kw_only=True, tag=True):
    """A stop, trailing-stop or if-touched order reached its trigger and is now working."""


class OrderCanceled(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The order was canceled; ``reason`` says by whom or why when known."""

    reason: str = ""


class OrderExpired(OrderEvent, frozen=True, kw_only=True, tag=True):
    """The order expired (GTD or DAY time passed, or an unfilled IOC/FOK at some venues)."""


class OrderFilled(OrderEvent, frozen=True, kw_only=True, tag=True):
    """One execution of ``last_qty`` at ``last_px``, with its commission."""

    account_id: AccountId
    venue_order_id: VenueOrderId
    trade_id: TradeId
    order_side: OrderSide
    order_type: OrderType
    last_qty: Quantity
    last_px: Price
    commission: Money
    liquidity_side: LiquiditySide
    position_id: PositionId | None = None
    position_side: PositionSide | None = None  # LONG or SHORT in hedging mode
