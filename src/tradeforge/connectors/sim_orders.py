"""``SimOrders``: the ``sim`` venue client's orders as the venue sees them, and the answers its
calls wait for.

The simulated venue's events come here. Each order the venue accepted is a domain ``Order`` fed
the venue's events, so statuses follow the lifecycle table; closed orders stay queryable by
client order id, the most recent ``closed_kept`` of them. Fills are all kept, their trade ids
prefixed with the session so they stay unique across restarts. Every change goes to the
``order_updates`` subscribers (each fill before the report it led to), and answers the submit,
cancel or modify waiting for it; a refusal becomes the domain error sorted by what the caller
should do, with the venue's reason code and message in its text.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

import msgspec

from tradeforge.bus import Clock
from tradeforge.connectors.errors import UnknownOutcome
from tradeforge.connectors.sim_subscription import SimSubscription
from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    FillReport,
    InstrumentId,
    InsufficientFunds,
    InvalidOrder,
    Message,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderRejected,
    OrderSpec,
    OrderStatusReport,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    RateLimited,
    RejectReason,
    StrategyId,
    TemporaryError,
    TradeForgeError,
    TradeId,
    UnknownInstrument,
    UnknownOrder,
    Venue,
)
from tradeforge.execution import OrderUpdate

__all__ = ["SimOrders"]

# A cancel or modify of an order we never saw is sent for this strategy (the venue answers it).
_ANY_STRATEGY = StrategyId("sim-venue-client")
# Refusals the caller cannot fix by changing the order: which error says what to do instead.
_REFUSALS: dict[RejectReason, type[TradeForgeError]] = {
    RejectReason.INSUFFICIENT_BALANCE: InsufficientFunds,
    RejectReason.UNKNOWN_INSTRUMENT: UnknownInstrument,
    RejectReason.UNKNOWN_ORDER: UnknownOrder,
    RejectReason.RATE_LIMITED: RateLimited,
    RejectReason.NO_LIQUIDITY: TemporaryError,  # no price yet: the same order may pass later
    RejectReason.MARKET_CLOSED: TemporaryError,
}


class SimOrders:
    """The orders of one client's account at the venue (module docstring).

    ``in_flight`` holds the orders sent and not yet answered; ``submits``, ``cancels`` and
    ``modifies`` the answers waited for (True once the venue answered, or its refusal), which
    the client's calls register and the venue's events resolve.
    """

    def __init__(
        self,
        *,
        venue: Venue,
        account_id: AccountId,
        clock: Clock,
        instrument_ids: Iterable[InstrumentId],
        closed_kept: int,
        update_limit: int,
    ) -> None:
        self._venue = venue
        self._account_id = account_id
        self._clock = clock
        self._closed_kept = closed_kept
        self._update_limit = update_limit
        # Orders: accepted (open and recently closed), in flight, and who waits for an answer.
        self._orders: dict[ClientOrderId, _Tracked] = {}
        self._open: dict[ClientOrderId, None] = {}
        self._closed: deque[ClientOrderId] = deque()
        self.in_flight: dict[ClientOrderId, OrderSpec] = {}
        self.submits: dict[ClientOrderId, asyncio.Future[bool]] = {}
        self.cancels: dict[ClientOrderId, list[asyncio.Future[bool]]] = {}
        self.modifies: dict[ClientOrderId, list[asyncio.Future[bool]]] = {}
        self._fills: dict[InstrumentId, list[FillReport]] = {iid: [] for iid in instrument_ids}
        self._subs: dict[SimSubscription[OrderUpdate], None] = {}  # a dict as an ordered set
        self._session = _base36(clock.timestamp_ns() // 1_000_000)

    # ------------------------------------------------------------- queries
    def used(self, client_order_id: ClientOrderId) -> bool:
        """Whether the client order id is taken: by an order the venue holds or one in flight."""
        return client_order_id in self._orders or client_order_id in self.in_flight

    def order(self, client_order_id: ClientOrderId) -> Order | None:
        """The venue's view of an accepted order (open, or closed and still kept)."""
        tracked = self._orders.get(client_order_id)
        return None if tracked is None else tracked.order

    def report(self, client_order_id: ClientOrderId) -> OrderStatusReport:
        """The report of an accepted order (``KeyError`` when there is none)."""
        return self._report(self._orders[client_order_id])

    def status(
        self, instrument_id: InstrumentId, client_order_id: ClientOrderId
    ) -> OrderStatusReport | None:
        """The report of the order with this client order id in the instrument, or None."""
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.order.instrument_id != instrument_id:
            return None
        return self._report(tracked)

    def open_reports(self, instrument_id: InstrumentId | None) -> list[OrderStatusReport]:
        """Open orders in the order the venue accepted them, of one instrument or all."""
        tracked = [self._orders[cid] for cid in self._open]
        return [
            self._report(t)
            for t in tracked
            if instrument_id is None or t.order.instrument_id == instrument_id
        ]

    def fills(self, instrument_id: InstrumentId, since_ns: int | None) -> list[FillReport]:
        """The fills in one instrument (at or after ``since_ns``), oldest first."""
        fills = self._fills[instrument_id]
        return list(fills) if since_ns is None else [f for f in fills if f.ts_event >= since_ns]

    def strategy_of(self, client_order_id: ClientOrderId) -> StrategyId:
        """Whose order it is, for a cancel or modify of it (a stand-in when it is unknown)."""
        tracked = self._orders.get(client_order_id)
        if tracked is not None:
            return tracked.order.strategy_id
        spec = self.in_flight.get(client_order_id)
        return spec.strategy_id if spec is not None else _ANY_STRATEGY

    # ------------------------------------------------------------- the client's side
    def subscribe(self) -> SimSubscription[OrderUpdate]:
        """A new ``order_updates`` subscription (cut off when it falls too far behind)."""
        sub: SimSubscription[OrderUpdate] = SimSubscription(
            limit=self._update_limit,
            overflow="disconnect",
            detach=lambda s: self._subs.pop(s, None),
        )
        self._subs[sub] = None
        return sub

    def subscriptions(self) -> list[SimSubscription[OrderUpdate]]:
        """Every ``order_updates`` subscription still taking updates."""
        return [*self._subs]

    def abandon(self) -> None:
        """The client closed: every call still waiting for the venue fails (``UnknownOutcome``)."""
        waiting = [*self.submits.values()]
        waiting += [
            f for futures in (*self.cancels.values(), *self.modifies.values()) for f in futures
        ]
        for answer in waiting:
            if not answer.done():
                answer.set_exception(
                    UnknownOutcome(f"{self._venue} client closed before the venue answered")
                )

    # ------------------------------------------------------------- venue events
    def on_event(self, msg: Message) -> None:
        """One event the venue emitted."""
        if isinstance(msg, OrderAccepted):
            self._accepted(msg)
        elif isinstance(msg, OrderRejected):
            cid = msg.client_order_id
            self.in_flight.pop(cid, None)
            answer = self.submits.pop(cid, None)
            if answer is not None and not answer.done():
                answer.set_exception(self._refusal("order", cid, msg.reason, msg.message))
        elif isinstance(msg, OrderFilled):
            self._filled(msg)
        elif isinstance(msg, (OrderCanceled, OrderExpired, OrderTriggered, OrderUpdated)):
            self._changed(msg)
        elif isinstance(msg, OrderCancelRejected):
            error = self._refusal("cancel of", msg.client_order_id, msg.reason, msg.message)
            self._answer(self.cancels, msg.client_order_id, error)
        elif isinstance(msg, OrderModifyRejected):
            error = self._refusal("modify of", msg.client_order_id, msg.reason, msg.message)
            self._answer(self.modifies, msg.client_order_id, error)
        # Nothing else reaches the port: balances are read from the account when asked.

    def _accepted(self, msg: OrderAccepted) -> None:
        cid = msg.client_order_id
        spec = self.in_flight.pop(cid, None)
        if spec is None:
            return  # not sent through this client: nothing to report it against
        order = Order(OrderInitialized.of(spec, msg.ts_event))
        order.apply(
            OrderSubmitted(
                **spec.ids(),
                account_id=self._account_id,
                ts_event=msg.ts_event,
                ts_init=msg.ts_init,
            )
        )
        order.apply(msg)
        tracked = self._orders[cid] = _Tracked(order)
        self._open[cid] = None
        answer = self.submits.pop(cid, None)
        if answer is not None and not answer.done():
            answer.set_result(True)
        if self._subs:
            self._publish(self._report(tracked))

    def _filled(self, fill: OrderFilled) -> None:
        tracked = self._orders.get(fill.client_order_id)
        if tracked is None:
            return
        # The simulated venue counts trade ids from 1 in every session: prefixed with this
        # session's start, they stay unique across restarts (a journal keys fills by them).
        fill = msgspec.structs.replace(
            fill, trade_id=TradeId(f"{self._session}-{fill.trade_id.value}")
        )
        tracked.order.apply(fill)
        report = FillReport(
            account_id=fill.account_id,
            instrument_id=fill.instrument_id,
            client_order_id=fill.client_order_id,
            venue_order_id=fill.venue_order_id,
            trade_id=fill.trade_id,
            side=fill.order_side,
            last_qty=fill.last_qty,
            last_px=fill.last_px,
            commission=fill.commission,
            liquidity_side=fill.liquidity_side,
            ts_event=fill.ts_event,
            ts_init=fill.ts_init,
        )
        self._fills[fill.instrument_id].append(report)
        if self._subs:
            self._publish(report)
        self._after_change(tracked)

    def _changed(self, msg: OrderCanceled | OrderExpired | OrderTriggered | OrderUpdated) -> None:
        cid = msg.client_order_id
        tracked = self._orders.get(cid)
        if tracked is None:
            return
        tracked.order.apply(msg)
        if isinstance(msg, OrderCanceled):
            tracked.reason = msg.reason
        elif isinstance(msg, OrderExpired):
            tracked.reason = "expired"
        if isinstance(msg, OrderUpdated):
            self._answer(self.modifies, cid, None)
        self._after_change(tracked)

    def _after_change(self, tracked: _Tracked) -> None:
        order = tracked.order
        cid = order.client_order_id
        if not order.is_open and cid in self._open:
            del self._open[cid]
            self._closed.append(cid)
            if len(self._closed) > self._closed_kept:
                self._orders.pop(self._closed.popleft(), None)
            # Whatever closed it answers a cancel on its way (the venue would refuse it now).
            self._answer(self.cancels, cid, None, every=True)
        if self._subs:
            self._publish(self._report(tracked))

    @staticmethod
    def _answer(
        waiting: dict[ClientOrderId, list[asyncio.Future[bool]]],
        cid: ClientOrderId,
        error: TradeForgeError | None,
        *,
        every: bool = False,
    ) -> None:
        for answer in waiting.get(cid, ()):
            if answer.done():
                continue
            if error is None:
                answer.set_result(True)
            else:
                answer.set_exception(error)
            if not every:
                return

    def _refusal(
        self, what: str, cid: ClientOrderId, reason: RejectReason, message: str
    ) -> TradeForgeError:
        text = f"{self._venue} refused {what} {cid}: {reason}: {message}"
        return _REFUSALS.get(reason, InvalidOrder)(text)

    def _report(self, tracked: _Tracked) -> OrderStatusReport:
        order = tracked.order
        spec = order.spec
        assert order.venue_order_id is not None  # set by the OrderAccepted that made it
        return OrderStatusReport(
            account_id=self._account_id,
            instrument_id=spec.instrument_id,
            client_order_id=spec.client_order_id,
            venue_order_id=order.venue_order_id,
            side=spec.side,
            order_type=spec.order_type,
            status=order.status,
            quantity=order.quantity,
            filled_qty=order.filled_qty,
            time_in_force=spec.time_in_force,
            price=order.price,
            trigger_price=order.trigger_price,
            avg_px=order.avg_px,
            reason=tracked.reason,
            ts_event=order.ts_last,
            ts_init=self._clock.timestamp_ns(),
        )

    def _publish(self, update: OrderUpdate) -> None:
        for sub in list(self._subs):
            sub.push(update)


class _Tracked:
    """The venue's view of one accepted order, and why it ended (if it did)."""

    __slots__ = ("order", "reason")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.reason = ""


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while value:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
    return out or "0"
