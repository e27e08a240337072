"""``OrderEvents``: the trading node's order events, from the venue to the strategy.

The venue's reports and fills (its own-order stream, answers to requests, lookups) become order
events; each event is applied to the OMS, journaled, applied to positions and risk, published
(``events.orders.<strategy>``, ``events.positions.<strategy>``), handed to the contingent groups
and parent orders, then to its strategy. A fill is applied once per trade id, however often it
is reported.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from tradeforge.bus.topics import escape_token, join_topic
from tradeforge.domain import (
    AccountId,
    ClientOrderId,
    FillReport,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderStatus,
    OrderStatusReport,
    OrderUpdated,
    Price,
    Quantity,
    RejectReason,
    TradeForgeError,
)
from tradeforge.execution import OrderUpdate, VenueClient
from tradeforge.observability import get_logger

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["OrderEvents"]

log = get_logger("tradeforge.node")


class OrderEvents:
    """The order events of one node (module docstring)."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node
        self._unsettled: set[ClientOrderId] = set()  # fills the venue reported but not yet seen

    async def stream(self, client: VenueClient, updates: AsyncIterator[OrderUpdate]) -> None:
        """Apply the venue's order updates. A stream that breaks is subscribed again (with
        back-off: 0.1 s doubling to 5 s), then the venue is reconciled: what the node missed
        while it was blind (fills, cancels) is read back."""
        node = self._node
        failures = 0
        while True:
            try:
                async for update in updates:
                    failures = 0
                    if isinstance(update, FillReport):
                        self.apply_fill(update)
                    else:
                        await self.apply_report(node.venues[update.instrument_id.venue], update)
                return  # the client closed the subscription: the node is stopping
            except TradeForgeError as exc:
                node.monitor.stream_down(client.venue, str(exc))
                delay = min(5.0, 0.1 * 2**failures)
                failures += 1
                log.warning("order stream broke; subscribing again", venue=str(client.venue),
                            error=str(exc), delay_s=delay)  # fmt: skip
            await asyncio.sleep(delay)
            try:
                updates = client.order_updates()
            except TradeForgeError as exc:
                log.warning("order stream not subscribed", venue=str(client.venue),
                            error=str(exc))  # fmt: skip
                updates = _Broken(exc)
                continue
            node._spawn(self._after_resubscribe(client))

    async def _after_resubscribe(self, client: VenueClient) -> None:
        node = self._node
        try:
            await node.reconcile(client.venue)
        except TradeForgeError as exc:
            log.warning("reconciliation after a stream gap failed", error=str(exc))
            return
        await node.monitor.stream_up(client.venue)

    async def apply_report(self, client: VenueClient, report: OrderStatusReport) -> None:
        """Bring the OMS's order up to the venue's report (missing fills fetched and applied)."""
        order = self._node.oms.get(report.client_order_id)
        if order is None:
            return
        now = self._node.clock.timestamp_ns()
        if order.status is OrderStatus.SUBMITTED and report.status is not OrderStatus.REJECTED:
            self.apply(
                OrderAccepted(**order.spec.ids(), account_id=report.account_id,
                              venue_order_id=report.venue_order_id, ts_event=now, ts_init=now)
            )  # fmt: skip
        if order.is_open and _changed(order, report):
            # A modify done at the venue (its answer may have been lost): the report says so.
            self.apply(
                OrderUpdated(**order.spec.ids(), quantity=report.quantity, price=report.price,
                             trigger_price=report.trigger_price,
                             venue_order_id=report.venue_order_id, ts_event=now, ts_init=now)
            )  # fmt: skip
        if report.filled_qty > order.filled_qty:
            await self._fetch_fills(client, order)
        if not order.is_open:
            return
        if report.status is OrderStatus.REJECTED:
            self.emit_rejected(order, report.reason or "rejected by the venue")
        elif report.status is OrderStatus.CANCELED and order.filled_qty >= report.filled_qty:
            self.apply(OrderCanceled(**order.spec.ids(), reason="venue", ts_event=now, ts_init=now))
        elif report.status is OrderStatus.EXPIRED and order.filled_qty >= report.filled_qty:
            self.apply(OrderExpired(**order.spec.ids(), ts_event=now, ts_init=now))

    async def _fetch_fills(self, client: VenueClient, order: Order, attempts: int = 3) -> None:
        """Apply the order's fills the node has not seen (each trade id once)."""
        for attempt in range(attempts):
            try:
                fills = await client.fills(order.instrument_id)
            except TradeForgeError as exc:
                if attempt + 1 == attempts:
                    log.warning("fills not fetched; will reconcile", error=str(exc),
                                client_order_id=order.client_order_id.value)  # fmt: skip
                    self._unsettled.add(order.client_order_id)
                    return
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            for fill in fills:
                if fill.client_order_id == order.client_order_id:
                    self.apply_fill(fill)
            self._unsettled.discard(order.client_order_id)
            return

    def apply_fill(self, fill: FillReport) -> None:
        """One fill the venue reported, applied unless its trade id was seen."""
        node = self._node
        order = node.oms.get(fill.client_order_id)
        if order is None or order.has_trade(fill.trade_id):
            return  # not ours, or already applied (a fill seen twice)
        if order.status is OrderStatus.SUBMITTED:
            now = node.clock.timestamp_ns()
            self.apply(
                OrderAccepted(**order.spec.ids(), account_id=fill.account_id,
                              venue_order_id=fill.venue_order_id, ts_event=now, ts_init=now)
            )  # fmt: skip
        self.apply(
            OrderFilled(
                **order.spec.ids(), account_id=fill.account_id,
                venue_order_id=fill.venue_order_id, trade_id=fill.trade_id,
                order_side=order.side, order_type=order.order_type, last_qty=fill.last_qty,
                last_px=fill.last_px, commission=fill.commission,
                liquidity_side=fill.liquidity_side, ts_event=fill.ts_event,
                ts_init=node.clock.timestamp_ns(),
            )
        )  # fmt: skip
        node.report.fills_applied += 1
        if node.running:
            node._spawn(node.refresh_balances())

    def emit_rejected(self, order: Order, message: str) -> None:
        """The order ends REJECTED with ``message``."""
        node = self._node
        now = node.clock.timestamp_ns()
        client = node.venues.get(order.instrument_id.venue)
        account = getattr(client, "account_id", None) or AccountId(f"{order.instrument_id.venue}-1")
        self.apply(
            OrderRejected(**order.spec.ids(), account_id=account, reason=RejectReason.OTHER,
                          message=message, ts_event=now, ts_init=now)
        )  # fmt: skip

    def apply(self, event: OrderEvent) -> None:
        """Journal, apply and deliver one order event."""
        node = self._node
        order = node.oms.get(event.client_order_id)
        if order is None:
            return
        try:
            order = node.oms.apply(event)
        except TradeForgeError as exc:
            log.warning("event not applied", kind=type(event).__name__,
                        client_order_id=event.client_order_id.value, error=str(exc))  # fmt: skip
            return
        node._crash.before_journal(event)
        if not node.journal.append(event, order):
            return
        if isinstance(event, OrderRejected):
            node.rejections[event.client_order_id] = event.message
        node._crash.reached("F")
        changed = None
        if isinstance(event, OrderFilled) and node.positions is not None:
            changed = node.positions.apply(event)[0].to_event(node.clock.timestamp_ns())
        if node.risk.tracking:
            node.risk.on_order_event(event)
        node.bus.publish(
            join_topic("events", "orders", escape_token(event.strategy_id.value)), event
        )
        if changed is not None:
            node.bus.publish(
                join_topic("events", "positions", escape_token(event.strategy_id.value)), changed
            )
        node._groups.act(node.contingency.on_event(event))
        node.algos.on_order_event(event, order)
        node._lifecycle.deliver(event)


def _changed(order: Order, report: OrderStatusReport) -> bool:
    # The venue's quantity or prices differ from the order's (values, not representations).
    def differs(ours: Price | Quantity | None, theirs: Price | Quantity | None) -> bool:
        return theirs is not None and (ours is None or ours.as_decimal() != theirs.as_decimal())

    return (
        differs(order.quantity, report.quantity)
        or differs(order.price, report.price)
        or differs(order.trigger_price, report.trigger_price)
    )


class _Broken(AsyncIterator[OrderUpdate]):
    """A subscription that failed to open: fails when read, so the stream loop tries again."""

    def __init__(self, error: TradeForgeError) -> None:
        self._error = error

    async def __anext__(self) -> OrderUpdate:
        raise self._error
