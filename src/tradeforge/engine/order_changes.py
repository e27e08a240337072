"""``OrderChanges``: cancels and modifies of the trading node's orders, and ``ModifyRefusal``.

A strategy's cancel passes pre-trade risk's cancel throttle; the node's own cancels (stopping,
the kill switch, a venue past its grace period) do not. An order the node emulates is cancelled
by the node. A cancel or modify whose answer is lost is settled by looking the order up at the
venue; nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tradeforge.domain import (
    ClientOrderId,
    InstrumentId,
    Order,
    OrderModifyRejected,
    OrderSide,
    Price,
    Quantity,
    RejectReason,
    TradeForgeError,
    Venue,
)
from tradeforge.domain.errors import TemporaryError, UnknownOrder
from tradeforge.observability import get_logger
from tradeforge.strategy import Strategy

if TYPE_CHECKING:
    from tradeforge.engine.node import TradingNode

__all__ = ["ModifyRefusal", "OrderChanges"]

log = get_logger("tradeforge.node")


@dataclass(frozen=True)
class ModifyRefusal:
    """Why a modify was not done: ``by`` pre-trade ``risk`` (``reason`` is the ``DenyReason``
    code) or the ``venue`` (``reason`` is ``REJECTED``)."""

    by: str
    reason: str
    message: str


class OrderChanges:
    """Cancels and modifies of one node's orders (module docstring)."""

    def __init__(self, node: TradingNode) -> None:
        self._node = node

    def cancel(self, strategy: Strategy, client_order_id: ClientOrderId) -> None:
        """See ``TradingNode.cancel``."""
        node = self._node
        order = node.oms.get(client_order_id)
        if order is None or order.strategy_id != strategy.id:
            return
        if client_order_id in node.emulator:
            node._emulation.cancel(order)
            return
        if not order.is_open:
            return
        denial = node.risk.check_cancel(client_order_id, strategy_id=strategy.id)
        if denial is not None:
            log.warning("cancel refused by risk", client_order_id=client_order_id.value,
                        reason=denial[0].value, message=denial[1])  # fmt: skip
            return
        node._spawn(self.cancel_now(order))

    def cancel_all(
        self, strategy: Strategy, instrument_id: InstrumentId, side: OrderSide | None
    ) -> None:
        """See ``TradingNode.cancel_all``."""
        node = self._node
        for order in node.oms.open_orders(strategy.id, instrument_id):
            if side is None or order.side is side:
                node._spawn(self.cancel_now(order))
        for order in node._emulation.held(strategy.id, instrument_id):
            if side is None or order.side is side:
                node._emulation.cancel(order)

    async def cancel_now(self, order: Order) -> None:
        """Cancel the order now, at its venue or held by the node (no risk check)."""
        node = self._node
        if order.client_order_id in node.emulator:
            node._emulation.cancel(order)
            return
        client = node.venues.get(order.instrument_id.venue)
        if client is None:
            return
        try:
            report = await client.cancel(order.instrument_id, order.client_order_id)
        except UnknownOrder:
            node._crash.reached("E")
            with contextlib.suppress(TemporaryError):  # no answer: the order stays as it is
                found = await node._reconciler.status(client, order)
                if found is not None:
                    await node._events.apply_report(client, found)
            return
        except TradeForgeError as exc:
            log.warning(
                "cancel failed", client_order_id=order.client_order_id.value, error=str(exc)
            )
            return
        await node._events.apply_report(client, report)

    def open_ids(self, venue: Venue) -> list[ClientOrderId]:
        """The node's open orders at ``venue``."""
        node = self._node
        return [o.client_order_id for o in node._open_orders() if o.instrument_id.venue == venue]

    async def cancel_ids(self, ids: list[ClientOrderId]) -> int:
        """Cancel those of ``ids`` still open (R15: not through risk's cancel throttle)."""
        node = self._node
        orders = [o for o in (node.oms.get(c) for c in ids) if o is not None and o.is_open]
        await asyncio.gather(*(self.cancel_now(o) for o in orders))
        return len(orders)

    def modify(
        self,
        strategy: Strategy,
        client_order_id: ClientOrderId,
        *,
        quantity: Quantity | None = None,
        price: Price | None = None,
        trigger_price: Price | None = None,
    ) -> asyncio.Task[ModifyRefusal | None] | None:
        """See ``TradingNode.modify``."""
        node = self._node
        order = node.oms.get(client_order_id)
        if order is None or order.strategy_id != strategy.id or not order.is_open:
            return None
        reference = None if node.risk.tracking else node.last_price(order.instrument_id)
        denial = node.risk.check_modify(
            client_order_id, quantity=quantity, price=price, trigger_price=trigger_price,
            reference=reference,
        )  # fmt: skip
        if denial is not None:
            refusal = ModifyRefusal("risk", denial[0].value, denial[1])
            self._refused_modify(strategy, order, refusal)
            return node._spawn(_answer(refusal))
        client = node.venues[order.instrument_id.venue]

        async def go() -> ModifyRefusal | None:
            try:
                report = await client.modify(
                    order.instrument_id, client_order_id,
                    quantity=quantity, price=price, trigger_price=trigger_price,
                )  # fmt: skip
            except TemporaryError:  # outcome unknown: what the venue holds now says
                with contextlib.suppress(TemporaryError):
                    found = await node._reconciler.status(client, order)
                    if found is not None:
                        await node._events.apply_report(client, found)
                return None
            except TradeForgeError as exc:
                refusal = ModifyRefusal("venue", "REJECTED", str(exc))
                self._refused_modify(strategy, order, refusal)
                if order.is_open:  # risk gives back what it counted for the change
                    now = node.clock.timestamp_ns()
                    node._events.apply(
                        OrderModifyRejected(**order.spec.ids(), reason=RejectReason.OTHER,
                                            message=str(exc)[:500], ts_event=now, ts_init=now)
                    )  # fmt: skip
                return refusal
            await node._events.apply_report(client, report)
            return None

        return node._spawn(go())

    def _refused_modify(self, strategy: Strategy, order: Order, refusal: ModifyRefusal) -> None:
        node = self._node
        cid = order.client_order_id.value
        log.warning("modify refused", client_order_id=cid, by=refusal.by, reason=refusal.reason,
                    error=refusal.message)  # fmt: skip
        node.logs.add(strategy.id, node.clock.timestamp_ns(), "warning",
                      f"modify of {cid} refused by {refusal.by}: {refusal.message}",
                      reason=refusal.reason)  # fmt: skip


async def _answer(refusal: ModifyRefusal) -> ModifyRefusal:
    return refusal
