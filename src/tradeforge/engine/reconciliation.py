"""``Reconciler``: the trading node's recovery from its journal and reconciliation with its
venues, and ``NodeReport``, what they found and did.

At start the OMS, positions, emulated orders, contingent groups and risk state are rebuilt from
the journal; then each venue is asked about the orders the journal has in flight or open (by
client order id, over the venue's visibility lag): fills the node missed are applied (each trade
id once), orders the venue never took are resolved REJECTED, and orders the journal has never
seen are reported as external. The same check runs every ``reconcile_every_s``, after an order
stream gap, and when a venue comes back. An order whose submit had an unknown outcome is looked
up until the venue knows it (the in-flight check); it is never re-sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tradeforge.bus import TimeEvent
from tradeforge.domain import (
    Order,
    OrderCanceled,
    OrderFilled,
    OrderInitialized,
    OrderStatus,
    OrderStatusReport,
    TradeForgeError,
    Venue,
)
from tradeforge.domain.errors import TemporaryError
from tradeforge.engine import emulation
from tradeforge.engine.emulation import OrderEmulator
from tradeforge.execution import VenueClient
from tradeforge.observability import get_logger
from tradeforge.trading.contingency import STATE_KEY as CONTINGENCY_STATE
from tradeforge.trading.contingency import Action

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["NodeReport", "Reconciler"]

log = get_logger("tradeforge.node")


@dataclass
class NodeReport:
    """What reconciliation found and did, for the operator."""

    adopted: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    fills_applied: int = 0
    external: list[str] = field(default_factory=list)


class Reconciler:
    """Recovery and reconciliation of one node (module docstring); what they did goes to
    ``node.report``.

    Args:
        inflight: the in-flight check's first wait, then its interval and how many "unknown
            order" answers (or errors in a row) settle a lookup, as in ``TradingNode``.
    """

    def __init__(self, node: TradingNode, inflight: tuple[float, float, int]) -> None:
        self._node = node
        self._inflight = inflight
        self._reconciling = False

    # ------------------------------------------------------------- at start
    def recover(self) -> list[Action]:
        """Rebuild the OMS and positions from the journal (each event applied once); what the
        rebuilt contingent groups send once reconciliation is done."""
        node = self._node
        count = 0
        for event in node.journal.events():
            count += 1
            if isinstance(event, OrderInitialized):
                node.oms.create(event.spec, event.ts_event)
                continue
            order = node.oms.get(event.client_order_id)
            if order is None:
                continue
            with contextlib.suppress(TradeForgeError):
                node.oms.apply(event)
                if isinstance(event, OrderFilled) and node.positions is not None:
                    node.positions.apply(event)
        armed = OrderEmulator.saved(node.journal.load_state(emulation.STATE_KEY))
        for order in [o for o in node.oms if o.status is OrderStatus.INITIALIZED]:
            if order.client_order_id.value in armed:  # held by the node: armed again
                node._emulation.arm(order, armed[order.client_order_id.value])
        # Contingent groups rebuilt before reconciliation, so the events it brings reach them.
        # Children whose parent filled or ended while the node was down are sent once the
        # reconciliation is done (sent now, they could be looked up before they arrive).
        saved = node.journal.load_state(CONTINGENCY_STATE)
        restored = node.contingency.restore(node.oms, armed=node.emulator, saved=saved)
        keep = {a.spec.client_order_id for a in restored if a.spec is not None}
        keep |= {a.replaces for a in restored if a.replaces is not None}
        unsent = [o for o in node.oms if o.status is OrderStatus.INITIALIZED]
        for order in sorted(unsent, key=lambda o: o.spec.parent_order_id is not None):
            cid = order.client_order_id
            if cid in node.emulator or cid in keep or node.contingency.held(cid):
                continue  # held by the node (armed, waiting for its parent) or released
            # Journaled, never sent (the node stopped before OrderSubmitted): nothing is at the
            # venue and nothing will send it now (parents first: their children are dropped).
            now = node.clock.timestamp_ns()
            node._events.apply(
                OrderCanceled(
                    **order.spec.ids(),
                    reason="never sent before a restart",
                    ts_event=now,
                    ts_init=now,
                )
            )
        if count:
            log.info("recovered from the journal", events=count, open=len(node._open_orders()))
        return restored

    def restore_risk(self) -> None:
        """Risk state after a restart: switches and disabled strategies from the journal, then
        the open orders and positions it counts."""
        node = self._node
        if not node.risk.tracking:
            return
        saved = node.journal.load_state("risk")
        if saved is not None:
            node.risk.import_state(saved)
        for order in node._open_orders():
            inst = node.instruments.get(order.instrument_id)
            if inst is not None:
                node.risk.adopt_order(order, inst)
        for position in node.positions or []:
            node.risk.set_position(
                position.strategy_id, position.instrument.id, position.signed_qty
            )

    # ------------------------------------------------------------- the venues' view
    async def reconcile(self, venue: Venue | None = None) -> NodeReport:
        """See ``TradingNode.reconcile``."""
        node = self._node
        chosen = node.venues if venue is None else {venue: node.venues[venue]}
        for venue_name, client in chosen.items():
            mine = [
                o
                for o in node.oms
                if (o.is_open or o.is_inflight) and o.instrument_id.venue == venue_name
            ]
            # Asked concurrently: each lookup may wait out the venue's visibility lag.
            reports = await asyncio.gather(
                *(self.status(client, o) for o in mine), return_exceptions=True
            )
            for order, report in zip(mine, reports, strict=True):
                if isinstance(report, TemporaryError):  # no answer: nothing is decided
                    log.warning("order not settled: the venue did not answer",
                                venue=str(venue_name),
                                client_order_id=order.client_order_id.value)  # fmt: skip
                    if order.status is OrderStatus.SUBMITTED:
                        node._spawn(self.inflight_check(client, order))
                    continue
                if isinstance(report, BaseException):
                    raise report
                if report is None:
                    if order.status is OrderStatus.SUBMITTED:
                        node._events.emit_rejected(order, "not found at the venue after a restart")
                        node.report.resolved.append(order.client_order_id.value)
                    elif order.is_open and order.status is not OrderStatus.INITIALIZED:
                        # The venue had taken it and no longer knows it (a paper venue that
                        # restarted, or one that purged it): it cannot fill any more.
                        log.warning("order lost at the venue", venue=str(venue_name),
                                    client_order_id=order.client_order_id.value,
                                    status=order.status.value)  # fmt: skip
                        now = node.clock.timestamp_ns()
                        node._events.apply(
                            OrderCanceled(
                                **order.spec.ids(),
                                reason="unknown at the venue",
                                ts_event=now,
                                ts_init=now,
                            )
                        )
                        node.report.resolved.append(order.client_order_id.value)
                    continue
                await node._events.apply_report(client, report)
                node.report.adopted.append(order.client_order_id.value)
            known = {o.client_order_id for o in node.oms}
            with contextlib.suppress(TradeForgeError):
                for report in await client.open_orders():
                    if report.client_order_id not in known:
                        node.report.external.append(report.client_order_id.value)
                        log.warning("external order at the venue", venue=str(venue_name),
                                    client_order_id=report.client_order_id.value)  # fmt: skip
        return node.report

    def on_timer(self, _: TimeEvent) -> None:
        """Periodic reconciliation: open and in-flight orders checked against the venues, so a
        missed update (a stream gap, a lost fill) is repaired within one interval."""
        node = self._node
        if self._reconciling or not node.running:
            return

        async def run() -> None:
            self._reconciling = True
            try:
                await node.reconcile()
                await node.refresh_balances()
            except TradeForgeError as exc:
                log.warning("periodic reconciliation failed", error=str(exc))
            finally:
                self._reconciling = False

        node._spawn(run())

    async def reconcile_venue(self, venue: Venue) -> None:
        """One venue reconciled and the balances read again (a venue that came back)."""
        await self._node.reconcile(venue)
        await self._node.refresh_balances()

    # ------------------------------------------------------------- one order
    async def status(
        self, client: VenueClient, order: Order, *, in_flight: bool = False
    ) -> OrderStatusReport | None:
        """The venue's view of an order, asked over its visibility lag: None once the venue has
        answered "unknown order" ``inflight_retries`` times (or, ``in_flight``, as soon as the
        order is no longer in flight). An error (a timeout, an open circuit breaker) is no
        answer: ``TemporaryError`` after as many errors in a row."""
        _, interval, retries = self._inflight
        unknown = errors = 0
        while not (in_flight and order.status is not OrderStatus.SUBMITTED):
            try:
                found = await client.order_status(order.instrument_id, order.client_order_id)
            except TradeForgeError as exc:
                errors += 1
                if errors >= max(retries, 1):
                    raise TemporaryError(
                        f"order {order.client_order_id}: no answer from the venue: {exc}"
                    ) from exc
            else:
                if found is not None:
                    return found
                unknown, errors = unknown + 1, 0
                if unknown >= max(retries, 1):
                    return None
            await asyncio.sleep(interval)
        return None

    async def inflight_check(self, client: VenueClient, order: Order) -> None:
        """Ask the venue by client order id until it knows the order; never re-send it. Only
        the venue's own "unknown order", over the in-flight checks, resolves it REJECTED."""
        await asyncio.sleep(self._inflight[0])
        while order.status is OrderStatus.SUBMITTED:
            try:
                found = await self.status(client, order, in_flight=True)
            except TemporaryError as exc:
                cid = order.client_order_id.value
                log.warning("no answer; the order stays in flight", client_order_id=cid,
                            error=str(exc))  # fmt: skip
                continue
            if found is not None:
                await self._node._events.apply_report(client, found)
            elif order.status is OrderStatus.SUBMITTED:
                self._node._events.emit_rejected(
                    order, "unknown at the venue after the in-flight checks"
                )
            return
