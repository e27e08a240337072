"""``ContingentOrders``: the trading node's side of contingent order groups (OTO, OCO, brackets).

The node's ``ContingencyManager`` (``trading.contingency``) decides; this does what it asks:
every member of a group is journaled when the group is submitted, members released together are
sent together (an OCO pair as one native list where its venue has them,
``engine.order_lists``), a child resized after a partial fill replaces the held one, and
siblings are cancelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeforge.domain import (
    AccountId,
    Order,
    OrderCanceled,
    OrderDenied,
    OrderList,
    OrderStatus,
    OrderSubmitted,
    TradeForgeError,
)
from tradeforge.domain.errors import RequestError
from tradeforge.engine.order_lists import native_oco, split_native_pairs, venue_oco_list
from tradeforge.execution import OcoVenueClient, VenueClient
from tradeforge.observability import get_logger
from tradeforge.trading.contingency import STATE_KEY as CONTINGENCY_STATE
from tradeforge.trading.contingency import Action

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["ContingentOrders"]

log = get_logger("tradeforge.node")


class ContingentOrders:
    """The contingent groups of one node (module docstring)."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node

    def submit_list(self, order_list: OrderList) -> None:
        """See ``TradingNode.submit_list``."""
        node = self._node
        orders = [node._submitter.create(spec) for spec in order_list.orders]
        now = {spec.client_order_id for spec in node.contingency.register(order_list)}
        self.send_together([o for o in orders if o.client_order_id in now])

    def act(self, actions: list[Action]) -> None:
        """Do what the contingency manager asked: held children released together go out
        together (as one native OCO list where the venue has it), cancels are sent."""
        node = self._node
        release: list[Order] = []
        for action in actions:
            if action.spec is None:
                continue
            if action.replaces is not None:
                # The resized child is journaled before the held one is cancelled: a crash in
                # between leaves both, and the restart sends the resized one (contingency).
                resized = node._submitter.create(action.spec)
                held = node.oms.get(action.replaces)
                if held is not None and held.status is OrderStatus.INITIALIZED:
                    now = node.clock.timestamp_ns()
                    node._events.apply(
                        OrderCanceled(
                            **held.spec.ids(),
                            reason="parent partly filled",
                            ts_event=now,
                            ts_init=now,
                        )
                    )
                release.append(resized)
                continue
            order = node.oms.get(action.spec.client_order_id)
            if order is not None and order.status is OrderStatus.INITIALIZED:
                release.append(order)
        self.send_together(release)
        for action in actions:
            if action.cancel is None:
                continue
            target = node.oms.get(action.cancel)
            if target is not None and target.client_order_id in node.emulator:
                node._emulation.cancel(target, "OCO sibling filled or ended")
            elif (
                target is not None
                and target.is_open
                and target.status is not OrderStatus.INITIALIZED
            ):
                node._spawn(node._changes.cancel_now(target))

    def send_together(self, orders: list[Order]) -> None:
        """Send created orders; OCO pairs as one native list where their venue takes it."""
        node = self._node
        native = [o for o in orders if native_oco(node.venues.get(o.instrument_id.venue))]
        pairs, _ = split_native_pairs(
            native, {o.client_order_id: node.contingency.group_of(o.client_order_id)
                     for o in native}
        )  # fmt: skip
        paired = {o.client_order_id for pair in pairs for o in pair}
        for pair in pairs:
            self._send_oco_pair(pair)
        for order in orders:
            if order.client_order_id not in paired:
                node._submitter.send_created(order)

    def _send_oco_pair(self, pair: tuple[Order, Order]) -> None:
        """Risk-check both legs, journal both SUBMITTED, then send them as one native list.

        A leg refused by risk refuses the pair (the venue takes both or neither). A crash after
        the journal and before the send leaves both SUBMITTED: reconciliation looks each up by
        client order id and, the list being atomic at the venue, adopts both or resolves both
        REJECTED; nothing is re-sent."""
        node = self._node
        denials = [node._submitter.denial(order.spec) for order in pair]
        now = node.clock.timestamp_ns()
        first = next((d for d in denials if d is not None), None)
        if first is not None:
            for order, denial in zip(pair, denials, strict=True):
                reason, message = denial or (first[0], f"its OCO sibling was refused: {first[1]}")
                node._events.apply(
                    OrderDenied(
                        **order.spec.ids(),
                        reason=reason,
                        message=message,
                        ts_event=now,
                        ts_init=now,
                    )
                )
            return
        client = node.venues[pair[0].instrument_id.venue]
        account = getattr(client, "account_id", None) or AccountId(f"{client.venue}-1")
        node.contingency.mark_native((pair[0].client_order_id, pair[1].client_order_id))
        # Kept before the submits are journaled: a restart knows the venue links the pair.
        node.journal.save_state(CONTINGENCY_STATE, node.contingency.dump(), now)
        for order in pair:
            node._events.apply(
                OrderSubmitted(**order.spec.ids(), account_id=account, ts_event=now, ts_init=now)
            )
        node._spawn(self._send_oco(client, pair))

    async def _send_oco(self, client: VenueClient, pair: tuple[Order, Order]) -> None:
        node = self._node
        order_list = venue_oco_list(pair)
        node._crash.reached("B")
        try:
            assert isinstance(client, OcoVenueClient)  # native_oco() said so
            reports = await client.submit_oco(order_list)
        except RequestError as exc:
            for order in pair:
                node._events.emit_rejected(order, str(exc))
            return
        except TradeForgeError as exc:
            log.warning("order list outcome unknown; checking",
                        order_list_id=order_list.order_list_id.value, error=str(exc))  # fmt: skip
            for order in pair:
                node._spawn(node._reconciler.inflight_check(client, order))
            return
        for report in reports:
            await node._events.apply_report(client, report)
