"""``Order``: an order's state, changed only by applying its events through the lifecycle table.

An event that the table does not allow, that belongs to another order, that repeats a fill's trade
id or that would overfill raises, and leaves the order exactly as it was.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from mypy_extensions import mypyc_attr

from tradeforge.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from tradeforge.domain.errors import InvalidTransition, InvalidValue
from tradeforge.domain.exact import exact_add, exact_multiply
from tradeforge.domain.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    VenueOrderId,
)
from tradeforge.domain.money import Currency, Money
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
from tradeforge.domain.orders.lifecycle import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    check_transition,
)
from tradeforge.domain.orders.spec import OrderSpec
from tradeforge.domain.values import Price, Quantity

__all__ = ["Order"]

_ZERO: Final = Decimal(0)  # shared: building a Decimal costs more than reading one

_S: Final = OrderStatus
_PENDING: Final = frozenset({_S.PENDING_UPDATE, _S.PENDING_CANCEL})
# Where a partial fill leaves an order that is waiting on a cancel/modify or already closed.
_PARTIAL_STAYS: Final = frozenset({_S.PENDING_UPDATE, _S.PENDING_CANCEL, _S.CANCELED, _S.EXPIRED})
# An acknowledgement can be overtaken by what followed it at the venue.
_ACK_OVERTAKEN: Final = frozenset(
    {_S.TRIGGERED, _S.PARTIALLY_FILLED, _S.FILLED, _S.PENDING_UPDATE, _S.PENDING_CANCEL,
     _S.CANCELED, _S.EXPIRED}
)  # fmt: skip
_UPDATABLE: Final = OPEN_STATUSES | {_S.SUBMITTED}
_TRANSITIONS: Final = TRANSITIONS
_SIMPLE_TARGETS: Final[dict[type[OrderEvent], OrderStatus]] = {
    OrderDenied: _S.DENIED,
    OrderSubmitted: _S.SUBMITTED,
    OrderAccepted: _S.ACCEPTED,
    OrderRejected: _S.REJECTED,
    OrderCanceled: _S.CANCELED,
    OrderExpired: _S.EXPIRED,
}


def _zero_qty(precision: int) -> Quantity:
    # Quantities are immutable: one zero per precision serves every order.
    zero = _ZERO_QTY.get(precision)
    if zero is None:
        zero = _ZERO_QTY[precision] = Quantity.from_raw(0, precision)
    return zero


_ZERO_QTY: Final[dict[int, Quantity]] = {}


@mypyc_attr(acyclic=True)
class Order:
    """The live state of one order, built from its ``OrderInitialized`` event."""

    def __init__(self, init: OrderInitialized) -> None:
        spec = init.spec
        self.spec: OrderSpec = spec
        # The spec's ids, read natively (every event of the order is checked against them).
        self._client_order_id: ClientOrderId = spec.client_order_id
        self._instrument_id: InstrumentId = spec.instrument_id
        self._strategy_id: StrategyId = spec.strategy_id
        self.quantity: Quantity = spec.quantity
        self.price: Price | None = spec.price
        self.trigger_price: Price | None = spec.trigger_price
        self.status: OrderStatus = _S.INITIALIZED
        self.account_id: AccountId | None = None
        self.venue_order_id: VenueOrderId | None = None
        self.filled_qty: Quantity = _zero_qty(spec.quantity.precision)
        self.fees: dict[Currency, Money] = {}
        # The history, oldest first: a list while the order is open, a tuple once it closed.
        # A closed order's tuple and its trade ids' dict hold only objects the cyclic
        # collector does not track, so they leave its lists at its next collection (a list
        # and a set would be walked, and promoted, for as long as the order is kept).
        self._history: list[OrderEvent] | tuple[OrderEvent, ...] = [init]
        self.ts_init: int = init.ts_init
        self.ts_last: int = init.ts_event
        self._filled_notional = _ZERO
        self._trade_ids: dict[TradeId, None] = {}
        self._status_before_pending: OrderStatus | None = None

    # identity and shape, from the spec
    @property
    def client_order_id(self) -> ClientOrderId:
        """Our id for the order."""
        return self._client_order_id

    @property
    def strategy_id(self) -> StrategyId:
        """The strategy that owns the order."""
        return self._strategy_id

    @property
    def instrument_id(self) -> InstrumentId:
        """The instrument traded."""
        return self._instrument_id

    @property
    def side(self) -> OrderSide:
        """Buy or sell."""
        return self.spec.side

    @property
    def order_type(self) -> OrderType:
        """Market, limit, stop, ..."""
        return self.spec.order_type

    @property
    def time_in_force(self) -> TimeInForce:
        """How long the order works."""
        return self.spec.time_in_force

    @property
    def events(self) -> tuple[OrderEvent, ...]:
        """Every event applied to the order, oldest first (its ``OrderInitialized`` first)."""
        return tuple(self._history)

    # derived state
    @property
    def leaves_qty(self) -> Quantity:
        """Quantity still to fill."""
        return self.quantity - self.filled_qty

    @property
    def avg_px(self) -> Decimal | None:
        """Average fill price (exact notional / filled quantity, to 28 digits); None if unfilled."""
        if self.filled_qty.is_zero():
            return None
        return self._filled_notional / self.filled_qty.as_decimal()

    @property
    def filled_notional(self) -> Decimal:
        """Exact sum of price x quantity over the fills."""
        return self._filled_notional

    @property
    def is_open(self) -> bool:
        """Working at the venue (accepted, triggered, partially filled or pending a change)."""
        return self.status in OPEN_STATUSES

    @property
    def is_inflight(self) -> bool:
        """Sent, or a change sent, and not yet answered."""
        return self.status is _S.SUBMITTED or self.status in _PENDING

    @property
    def is_closed(self) -> bool:
        """In a terminal state."""
        return self.status in TERMINAL_STATUSES

    def has_trade(self, trade_id: TradeId) -> bool:
        """True when a fill with ``trade_id`` was already applied."""
        return trade_id in self._trade_ids

    def apply(self, event: OrderEvent) -> None:
        """Apply ``event``; raise without changing anything if it is not allowed."""
        same = (  # events built from this order's spec carry its very id objects
            event.client_order_id is self._client_order_id
            and event.instrument_id is self._instrument_id
            and event.strategy_id is self._strategy_id
        )
        if not same and (event.client_order_id, event.instrument_id, event.strategy_id) != (
            self.client_order_id,
            self.instrument_id,
            self.strategy_id,
        ):
            raise InvalidValue(
                f"event for order {event.client_order_id} ({event.instrument_id}, "
                f"{event.strategy_id}) applied to order {self.client_order_id} "
                f"({self.instrument_id}, {self.strategy_id})"
            )
        kind = type(event)
        if kind is OrderFilled or (kind not in _SIMPLE_TARGETS and isinstance(event, OrderFilled)):
            self._apply_fill(event)  # type: ignore[arg-type]
        elif isinstance(event, OrderInitialized):
            raise InvalidTransition(f"order {self.client_order_id}: already initialized")
        else:
            self._apply_change(event)
        history = self._history
        if isinstance(history, list):
            history.append(event)
            if self.status in TERMINAL_STATUSES:
                self._history = tuple(history)
        else:  # an event after the order closed (a late fill or ack): rare
            self._history = (*history, event)
        self.ts_last = event.ts_event

    def _move(self, target: OrderStatus) -> None:
        if target not in _TRANSITIONS[self.status]:
            check_transition(self.status, target, subject=f"order {self.client_order_id}")
        if target in _PENDING and self.status not in _PENDING:
            self._status_before_pending = self.status
        self.status = target

    def _back_from_pending(self) -> OrderStatus:
        return self._status_before_pending or _S.ACCEPTED

    def _apply_change(self, event: OrderEvent) -> None:
        kind = type(event)
        target = _SIMPLE_TARGETS.get(kind)
        if target is not None and kind is not OrderAccepted and kind is not OrderSubmitted:
            self._move(target)
            if kind is OrderRejected:
                self.account_id = event.account_id  # type: ignore[attr-defined]
            return
        if isinstance(event, OrderAccepted) and self.status in _ACK_OVERTAKEN:
            self._late_ack(event)
            return
        if target is not None:
            self._move(target)
            if isinstance(event, (OrderSubmitted, OrderAccepted, OrderRejected)):
                self.account_id = event.account_id
            if isinstance(event, OrderAccepted):
                self.venue_order_id = event.venue_order_id
        elif isinstance(event, OrderPendingUpdate):
            self._move(_S.PENDING_UPDATE)
        elif isinstance(event, OrderPendingCancel):
            self._move(_S.PENDING_CANCEL)
        elif isinstance(event, (OrderModifyRejected, OrderCancelRejected)):
            pending = (
                _S.PENDING_UPDATE if isinstance(event, OrderModifyRejected) else (_S.PENDING_CANCEL)
            )
            if self.status is pending:
                self._move(self._back_from_pending())
        elif isinstance(event, OrderTriggered):
            if self.status in _PENDING:
                self._move(self.status)
                self._status_before_pending = _S.TRIGGERED
            else:
                self._move(_S.TRIGGERED)
        elif isinstance(event, OrderUpdated):
            self._apply_update(event)
        else:
            raise InvalidTransition(f"order {self.client_order_id}: unknown event {event!r}")

    def _late_ack(self, event: OrderAccepted) -> None:
        # The acknowledgement arrived after a fill, trigger or change request it preceded at the
        # venue: the status already says more, so keep it and record what the ack carries.
        if self.status in _PENDING and self._status_before_pending is _S.SUBMITTED:
            self._status_before_pending = _S.ACCEPTED
        self.account_id = event.account_id
        self.venue_order_id = event.venue_order_id

    def _apply_update(self, event: OrderUpdated) -> None:
        if self.status not in _UPDATABLE:
            raise InvalidTransition(
                f"order {self.client_order_id}: cannot update an order that is {self.status}"
            )
        if event.quantity.is_zero():
            raise InvalidValue(f"order {self.client_order_id}: updated quantity must be positive")
        if event.quantity < self.filled_qty:
            raise InvalidValue(
                f"order {self.client_order_id}: updated quantity {event.quantity} is below "
                f"the filled quantity {self.filled_qty}"
            )
        if event.quantity == self.filled_qty:
            self._move(_S.FILLED)
        elif self.status is _S.PENDING_UPDATE:
            self._move(self._back_from_pending())
        self.quantity = event.quantity
        if event.price is not None:
            self.price = event.price
        if event.trigger_price is not None:
            self.trigger_price = event.trigger_price
        if event.venue_order_id is not None:
            self.venue_order_id = event.venue_order_id

    def _apply_fill(self, fill: OrderFilled) -> None:
        trade_id, last_qty = fill.trade_id, fill.last_qty  # (each field read is a lookup)
        if trade_id in self._trade_ids:
            name = f"order {self.client_order_id}"
            raise InvalidTransition(f"{name}: duplicate fill, trade_id {trade_id}")
        if fill.order_side is not self.spec.side:
            name = f"order {self.client_order_id}"
            raise InvalidValue(f"{name}: fill side {fill.order_side} but order is {self.side}")
        last = last_qty.as_decimal()
        if not last:
            raise InvalidValue(f"order {self.client_order_id}: fill last_qty must be positive")
        leaves = self.quantity.as_decimal() - self.filled_qty.as_decimal()
        if last > leaves:
            raise InvalidValue(
                f"order {self.client_order_id}: overfill, last_qty {last_qty} exceeds "
                f"leaves_qty {self.leaves_qty}"
            )
        if last == leaves:
            self._move(_S.FILLED)
        elif self.status in _PARTIAL_STAYS:
            self._move(self.status)
            if self.status in _PENDING:
                self._status_before_pending = _S.PARTIALLY_FILLED
        else:
            self._move(_S.PARTIALLY_FILLED)
        self.filled_qty = self.filled_qty + last_qty
        self._filled_notional = exact_add(
            self._filled_notional, exact_multiply(last, fill.last_px.as_decimal())
        )
        fee = fill.commission
        fees = self.fees
        held = fees.get(fee.currency)
        fees[fee.currency] = fee if held is None else held + fee
        self._trade_ids[trade_id] = None
        self.account_id = fill.account_id
        self.venue_order_id = fill.venue_order_id

    def __repr__(self) -> str:
        return (
            f"Order({self.client_order_id}, {self.side} {self.quantity} {self.instrument_id} "
            f"{self.order_type}, {self.status}, filled={self.filled_qty})"
        )
